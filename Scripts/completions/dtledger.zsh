#compdef dtledger

__dtledger_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__dtledger_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __dtledger_complete "${completions[@]:0:-1}"
    fi
}

__dtledger_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_dtledger() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'append:Append one event, or a file of events (all or nothing).'
            'read:Print stored events in position order.'
            'status:The on-call view of a case: what is overdue, what is due next and by when.'
            'compliance:Judge every obligation of the process for one case, or for every case opened in a period.'
            'directory:Publish and query the directory: people, groups, roles and products, with effective dates.'
            'policy:Check, publish and show notification policies (versioned, with effective dates).'
            'migrate:Apply pending database migrations (safe to run twice or concurrently).'
            'verify:Recompute the hash chain and prove nobody edited the ledger.'
            'digest:Print the chain tip {position, hash, recorded_at} as JSON, to keep outside the database.'
            'downtime:Record a planned downtime: plan, update, start, conclude, cancel.'
            'incident:Record an incident: open, priority, update, milestone, resolve, reopen.'
            'notify:Record a notification sent on Slack or by email (notification.sent).'
            'ticket:Record a ticket and its approval.'
            'window:Record a maintenance window and its verification.'
            'escalate:escalation.requested (csoc-dbrs, csoc, nsoc, mim, ...).'
            'note:note.added: free text on the case'\''s timeline.'
            'retract:event.retracted: an event of the case no longer counts as evidence (it stays in the ledger).'
            'import:Import PagerDuty, Slack and ServiceNow records as events (idempotent by the source'\''s own ids).'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        append|read|status|compliance|directory|policy|migrate|verify|digest|downtime|incident|notify|ticket|window|escalate|note|retract|import|help)
            "_dtledger_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_dtledger_append() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[Case id, \[A-Za-z0-9\]\[A-Za-z0-9._-\]{0,63}.]:case:'
        '--type[Event type, e.g. notification.sent.]:type:'
        '--data[Event data\: a JSON object, @FILE to read it from a file, or - for stdin.]:data:'
        '--occurred-at[When it happened, RFC 3339 with offset (default\: now).]:occurred-at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--source[cli, pagerduty, slack, servicenow, email or import (default\: cli).]:source:'
        '--key[Idempotency key\: a retry with the same key appends nothing.]:key:'
        '--expect-version[any (default), none (the case must be new), or N.]:expect-version:'
        '--file[A JSONL file of envelopes to append atomically, or - for stdin.]:file:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_read() {
    local -i ret=1
    local -ar ___format=('jsonl' 'table')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[Only this case'\''s events.]:case:'
        '--after[Only events after this global position (default 0\: from the start).]:after:'
        '--format[jsonl (default) or table.]:format:{__dtledger_complete "${___format[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_status() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        ':case-id:'
        '--as-of[As of this time (default now).]:as-of:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_compliance() {
    local -i ret=1
    local -ar ___format=('table' 'markdown' 'json' 'csv')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        ':case-id:'
        '--from[Start of the period (RFC 3339), inclusive\: cases opened at or after it.]:from:'
        '--to[End of the period (RFC 3339), exclusive.]:to:'
        '--as-of[Evaluate as of this time (default now)\: what was pending then.]:as-of:'
        '--format[table (default), markdown, json or csv.]:format:{__dtledger_complete "${___format[@]}"}'
        '--strict[Exit 1 when any obligation is late, partial or missed.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_directory() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'publish:Publish a directory YAML file into the ledger (republishing the same file is a no-op).'
            'show:Print the directory in force at a time, as JSON.'
            'who:Who held a role at a time ("who was the ISSO on 3 March").'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        publish|show|who)
            "_dtledger_directory_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_dtledger_directory_publish() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        ':file:'
        '--effective-from[Overrides the file'\''s effective_from (RFC 3339).]:effective-from:'
        '--actor[Who publishes it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_directory_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--at[The time (RFC 3339; default now).]:at:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_directory_who() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        ':role:'
        '--at[The time (RFC 3339; default now).]:at:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_policy() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'check:Validate a policy file without publishing it (exit 0 valid, 65 problems).'
            'publish:Publish a policy into the ledger, effective from a time.'
            'show:Show the published policy versions, or the one in force at a time.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        check|publish|show)
            "_dtledger_policy_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_dtledger_policy_check() {
    local -i ret=1
    local -ar arg_specs=(
        ':file:'
        '--directory[A directory YAML file to check roles and people against.]:directory:'
        '--database-url[Read the published directory from this database.]:database-url:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_policy_publish() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        ':file:'
        '--effective-from[When it takes effect (RFC 3339).]:effective-from:'
        '--actor[Who publishes it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_policy_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--at[The time (RFC 3339).]:at:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_migrate() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--no-default-policy[Do not publish the default policy when none exists.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_verify() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--digest[A digest JSON file from '\''dtledger digest'\''.]:digest:'
        '--json[Print the result as one JSON line.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_digest() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_downtime() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'plan:downtime.planned: planning started (generates the case id PD-YYYY-NNNN unless --case).'
            'update:downtime.updated: reason, impact, window (a reschedule) or rollback plan changed.'
            'start:downtime.started: the downtime began.'
            'conclude:downtime.concluded: completed or rolled back.'
            'cancel:downtime.cancelled.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        plan|update|start|conclude|cancel)
            "_dtledger_downtime_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_dtledger_downtime_plan() {
    local -i ret=1
    local -ar ___team=('api-platform' 'user-facing' 'vagov-platform' 'vahb-platform')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--team[api-platform, user-facing, vagov-platform or vahb-platform.]:team:{__dtledger_complete "${___team[@]}"}'
        '--title[Short title.]:title:'
        '--reason[Why the downtime is needed.]:reason:'
        '--users[Anticipated number of users affected.]:users:'
        '*--services[Impacted services (repeatable or comma-separated).]:services:'
        '--start[Window start (RFC 3339).]:start:'
        '--end[Window end (RFC 3339).]:end:'
        '--rollback-plan[The rollback plan.]:rollback-plan:'
        '--product[Directory product id.]:product:'
        '--impacts-mobile[The downtime affects the mobile app.]'
        '--communication-owner[Handle of the communication owner.]:communication-owner:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_downtime_update() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--reason[New reason.]:reason:'
        '--users[Anticipated number of users affected (with --services).]:users:'
        '*--services[Impacted services (repeatable or comma-separated).]:services:'
        '--start[New window start (with --end).]:start:'
        '--end[New window end (with --start).]:end:'
        '--rollback-plan[New rollback plan.]:rollback-plan:'
        '--title[New title.]:title:'
        '--product[Directory product id.]:product:'
        '--impacts-mobile[Whether it affects the mobile app.]'
        '--no-impacts-mobile[Whether it affects the mobile app.]'
        '--communication-owner[Handle of the communication owner.]:communication-owner:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_downtime_start() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_downtime_conclude() {
    local -i ret=1
    local -ar ___outcome=('completed' 'rolled_back')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--outcome[completed or rolled_back.]:outcome:{__dtledger_complete "${___outcome[@]}"}'
        '--note[A note.]:note:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_downtime_cancel() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--reason[Why it was cancelled.]:reason:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_incident() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'open:incident.opened: detected (generates the case id INC-YYYY-NNNN unless --case).'
            'priority:incident.priority_set: the initial rating or a change (P1..P4).'
            'update:incident.updated: summary, impact or flags changed.'
            'milestone:incident.milestone: e.g. solution_determined, contained, recovered.'
            'resolve:incident.resolved.'
            'reopen:incident.reopened.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        open|priority|update|milestone|resolve|reopen)
            "_dtledger_incident_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_dtledger_incident_open() {
    local -i ret=1
    local -ar ___team=('api-platform' 'user-facing' 'vagov-platform' 'vahb-platform')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--team[api-platform, user-facing, vagov-platform or vahb-platform.]:team:{__dtledger_complete "${___team[@]}"}'
        '--summary[What is wrong, in one line.]:summary:'
        '--users[Estimated number of users affected.]:users:'
        '*--services[Impacted services (repeatable or comma-separated).]:services:'
        '--started-at[When the incident started (RFC 3339; may be before detection).]:started-at:'
        '--product[Directory product id.]:product:'
        '--data-compromise-suspected[Veteran data may be compromised.]'
        '--impacts-mobile[The incident affects the mobile app.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_incident_priority() {
    local -i ret=1
    local -ar ___priority=('P1' 'P2' 'P3' 'P4')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--priority[P1, P2, P3 or P4.]:priority:{__dtledger_complete "${___priority[@]}"}'
        '--reason[Why this priority.]:reason:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_incident_update() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--summary[New summary.]:summary:'
        '--users[Estimated number of users affected (with --services).]:users:'
        '*--services[Impacted services (repeatable or comma-separated).]:services:'
        '--data-compromise-suspected[Whether Veteran data may be compromised.]'
        '--no-data-compromise-suspected[Whether Veteran data may be compromised.]'
        '--impacts-mobile[Whether it affects the mobile app.]'
        '--no-impacts-mobile[Whether it affects the mobile app.]'
        '--product[Directory product id.]:product:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_incident_milestone() {
    local -i ret=1
    local -ar ___kind=('group_chat_convened' 'solution_determined' 'root_cause_ruled_out' 'contained' 'eradicated' 'recovered' 'mim_triggered')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--kind[group_chat_convened, solution_determined, root_cause_ruled_out, contained, eradicated, recovered, mim_triggered.]:kind:{__dtledger_complete "${___kind[@]}"}'
        '--note[A note.]:note:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_incident_resolve() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--resolution[How it was resolved.]:resolution:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_incident_reopen() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--reason[Why it was reopened.]:reason:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_notify() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'slack:A Slack message was posted (or edited, with --edits).'
            'email:An email was sent.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        slack|email)
            "_dtledger_notify_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_dtledger_notify_slack() {
    local -i ret=1
    local -ar ___purpose=('planning' 'day_before' 'concluded' 'initial' 'priority' 'update' 'milestone' 'resolved' 'other')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--destination[Slack channel or mail list the message went to.]:destination:'
        '*--audience[Who it tagged or was sent to (repeatable or comma-separated).]:audience:'
        '--purpose[planning, day_before, concluded, initial, priority, update, milestone, resolved, other.]:purpose:{__dtledger_complete "${___purpose[@]}"}'
        '*--content[A content field the message carried, as field=text (repeatable).]:content:'
        '--message-ref[Permalink or Message-ID of the message.]:message-ref:'
        '--edits[message_ref of an earlier message this one edits.]:edits:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_notify_email() {
    local -i ret=1
    local -ar ___purpose=('planning' 'day_before' 'concluded' 'initial' 'priority' 'update' 'milestone' 'resolved' 'other')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--destination[Slack channel or mail list the message went to.]:destination:'
        '*--audience[Who it tagged or was sent to (repeatable or comma-separated).]:audience:'
        '--purpose[planning, day_before, concluded, initial, priority, update, milestone, resolved, other.]:purpose:{__dtledger_complete "${___purpose[@]}"}'
        '*--content[A content field the message carried, as field=text (repeatable).]:content:'
        '--message-ref[Permalink or Message-ID of the message.]:message-ref:'
        '--edits[message_ref of an earlier message this one edits.]:edits:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_ticket() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'submit:ticket.submitted (e.g. a SNOW change request).'
            'approve:approval.recorded: a ticket was approved or rejected.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        submit|approve)
            "_dtledger_ticket_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_dtledger_ticket_submit() {
    local -i ret=1
    local -ar ___purpose=('downtime_approval' 'security_incident' 'other')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--system[snow (default), psets, ...]:system:'
        '--number[The ticket number, e.g. CHG0031337.]:number:'
        '--purpose[downtime_approval, security_incident or other.]:purpose:{__dtledger_complete "${___purpose[@]}"}'
        '--url[Link to the ticket.]:url:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_ticket_approve() {
    local -i ret=1
    local -ar ___decision=('approved' 'rejected')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--ticket[The ticket number.]:ticket:'
        '--approver[Handle of the approver (default\: the actor).]:approver:'
        '--decision[approved (default) or rejected.]:decision:{__dtledger_complete "${___decision[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_window() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'set:maintenance_window.set (e.g. in PagerDuty).'
            'verify:maintenance_window.verified: the actor reviewed the window.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        set|verify)
            "_dtledger_window_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_dtledger_window_set() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--system[pagerduty (default).]:system:'
        '--window-id[The window'\''s id, e.g. PW12345.]:window-id:'
        '--start[Window start (RFC 3339).]:start:'
        '--end[Window end (RFC 3339).]:end:'
        '*--services[Services covered (repeatable or comma-separated).]:services:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_window_verify() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--window-id[The window'\''s id.]:window-id:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_escalate() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--to[Who it was escalated to\: csoc-dbrs, csoc, nsoc, mim, ...]:to:'
        '--reference[Their ticket or reference.]:reference:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_note() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        '--text[The note.]:text:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_retract() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        '--case[The case id (default\: DTLEDGER_CASE).]:case:'
        '(--at --occurred-at)'{--at,--occurred-at}'[When it happened, RFC 3339 with offset (default\: now).]:at:'
        '--actor[Directory handle of who did it (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--key[Idempotency key\: a retry with the same key appends nothing and prints the original.]:key:'
        '--json[Print the stored event as one JSON line.]'
        ':event-id:'
        '--reason[Why.]:reason:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_import() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'pagerduty:PagerDuty webhook v3 incident events and REST maintenance windows.'
            'slack:Slack Events API message events (and message_changed edits) as notifications.'
            'servicenow:ServiceNow Table API incident, change_request and sysapproval_approver records as tickets and approvals.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        pagerduty|slack|servicenow)
            "_dtledger_import_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_dtledger_import_pagerduty() {
    local -i ret=1
    local -ar ___team=('api-platform' 'user-facing' 'vagov-platform' 'vahb-platform')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        ':file:'
        '--config[Importer config (YAML or JSON)\: cases, actors, services, channels.]:config:'
        '--case[Put every event into this case.]:case:'
        '*--map[Map a source id to a case, as ID=CASE (repeatable)\: PagerDuty incident/service/window id, ServiceNow number.]:map:'
        '--actor[Actor when the payload names nobody the directory knows (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--strict[Fail (write nothing) when any payload cannot be mapped.]'
        '--dry-run[Map and report, print the events, write nothing.]'
        '--json[Print each imported event as one JSON line before the summary.]'
        '--verify-signature[Verify each payload'\''s signature header with the shared secret.]'
        '--secret-env[Environment variable holding the secret.]:secret-env:'
        '--team[Team of incidents whose service the config does not map.]:team:{__dtledger_complete "${___team[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_import_slack() {
    local -i ret=1
    local -ar ___purpose=('planning' 'day_before' 'concluded' 'initial' 'priority' 'update' 'milestone' 'resolved' 'other')
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        ':file:'
        '--config[Importer config (YAML or JSON)\: cases, actors, services, channels.]:config:'
        '--case[Put every event into this case.]:case:'
        '*--map[Map a source id to a case, as ID=CASE (repeatable)\: PagerDuty incident/service/window id, ServiceNow number.]:map:'
        '--actor[Actor when the payload names nobody the directory knows (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--strict[Fail (write nothing) when any payload cannot be mapped.]'
        '--dry-run[Map and report, print the events, write nothing.]'
        '--json[Print each imported event as one JSON line before the summary.]'
        '--verify-signature[Verify each payload'\''s signature header with the shared secret.]'
        '--secret-env[Environment variable holding the secret.]:secret-env:'
        '--purpose[Purpose of messages without a Purpose\: line.]:purpose:{__dtledger_complete "${___purpose[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_import_servicenow() {
    local -i ret=1
    local -ar arg_specs=(
        '--database-url[libpq conninfo or postgresql\:// URL.]:database-url:'
        ':file:'
        '--config[Importer config (YAML or JSON)\: cases, actors, services, channels.]:config:'
        '--case[Put every event into this case.]:case:'
        '*--map[Map a source id to a case, as ID=CASE (repeatable)\: PagerDuty incident/service/window id, ServiceNow number.]:map:'
        '--actor[Actor when the payload names nobody the directory knows (default\: DTLEDGER_ACTOR, else the login name).]:actor:'
        '--strict[Fail (write nothing) when any payload cannot be mapped.]'
        '--dry-run[Map and report, print the events, write nothing.]'
        '--json[Print each imported event as one JSON line before the summary.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_dtledger_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _dtledger ]]; then
    _dtledger "${@}"
else
    compdef _dtledger dtledger
fi
