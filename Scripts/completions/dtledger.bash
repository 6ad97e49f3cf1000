#!/bin/bash

__dtledger_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__dtledger_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__dtledger_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__dtledger_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_dtledger() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __dtledger_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    append|read|status|compliance|directory|policy|migrate|verify|digest|downtime|incident|notify|ticket|window|escalate|note|retract|import|help)
        # Offer subcommand argument completions
        "_dtledger_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'append read status compliance directory policy migrate verify digest downtime incident notify ticket window escalate note retract import help' -- "${cur}"))
        ;;
    esac
}

_dtledger_append() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --type --data --occurred-at --actor --source --key --expect-version --file)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--type')
        return
        ;;
    '--data')
        return
        ;;
    '--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--source')
        return
        ;;
    '--key')
        return
        ;;
    '--expect-version')
        return
        ;;
    '--file')
        return
        ;;
    esac
}

_dtledger_read() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --after --format)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--after')
        return
        ;;
    '--format')
        __dtledger_add_completions -W 'jsonl'$'\n''table'
        return
        ;;
    esac
}

_dtledger_status() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --as-of)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--as-of')
        return
        ;;
    esac
}

_dtledger_compliance() {
    repeating_flags=()
    non_repeating_flags=(--strict --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --from --to --as-of --format)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--from')
        return
        ;;
    '--to')
        return
        ;;
    '--as-of')
        return
        ;;
    '--format')
        __dtledger_add_completions -W 'table'$'\n''markdown'$'\n''json'$'\n''csv'
        return
        ;;
    esac
}

_dtledger_directory() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __dtledger_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    publish|show|who)
        # Offer subcommand argument completions
        "_dtledger_directory_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'publish show who' -- "${cur}"))
        ;;
    esac
}

_dtledger_directory_publish() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --effective-from --actor)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--effective-from')
        return
        ;;
    '--actor')
        return
        ;;
    esac
}

_dtledger_directory_show() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --at)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--at')
        return
        ;;
    esac
}

_dtledger_directory_who() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --at)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--at')
        return
        ;;
    esac
}

_dtledger_policy() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __dtledger_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    check|publish|show)
        # Offer subcommand argument completions
        "_dtledger_policy_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'check publish show' -- "${cur}"))
        ;;
    esac
}

_dtledger_policy_check() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--directory --database-url)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--directory')
        return
        ;;
    '--database-url')
        return
        ;;
    esac
}

_dtledger_policy_publish() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --effective-from --actor)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--effective-from')
        return
        ;;
    '--actor')
        return
        ;;
    esac
}

_dtledger_policy_show() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --at)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--at')
        return
        ;;
    esac
}

_dtledger_migrate() {
    repeating_flags=()
    non_repeating_flags=(--no-default-policy --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    esac
}

_dtledger_verify() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --digest)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--digest')
        return
        ;;
    esac
}

_dtledger_digest() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    esac
}

_dtledger_downtime() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __dtledger_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    plan|update|start|conclude|cancel)
        # Offer subcommand argument completions
        "_dtledger_downtime_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'plan update start conclude cancel' -- "${cur}"))
        ;;
    esac
}

_dtledger_downtime_plan() {
    repeating_flags=()
    non_repeating_flags=(--json --impacts-mobile --version -h --help)
    repeating_options=(--services)
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --team --title --reason --users --start --end --rollback-plan --product --communication-owner)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--team')
        __dtledger_add_completions -W 'api-platform'$'\n''user-facing'$'\n''vagov-platform'$'\n''vahb-platform'
        return
        ;;
    '--title')
        return
        ;;
    '--reason')
        return
        ;;
    '--users')
        return
        ;;
    '--services')
        return
        ;;
    '--start')
        return
        ;;
    '--end')
        return
        ;;
    '--rollback-plan')
        return
        ;;
    '--product')
        return
        ;;
    '--communication-owner')
        return
        ;;
    esac
}

_dtledger_downtime_update() {
    repeating_flags=()
    non_repeating_flags=(--json --impacts-mobile --no-impacts-mobile --version -h --help)
    repeating_options=(--services)
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --reason --users --start --end --rollback-plan --title --product --communication-owner)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--reason')
        return
        ;;
    '--users')
        return
        ;;
    '--services')
        return
        ;;
    '--start')
        return
        ;;
    '--end')
        return
        ;;
    '--rollback-plan')
        return
        ;;
    '--title')
        return
        ;;
    '--product')
        return
        ;;
    '--communication-owner')
        return
        ;;
    esac
}

_dtledger_downtime_start() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    esac
}

_dtledger_downtime_conclude() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --outcome --note)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--outcome')
        __dtledger_add_completions -W 'completed'$'\n''rolled_back'
        return
        ;;
    '--note')
        return
        ;;
    esac
}

_dtledger_downtime_cancel() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --reason)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--reason')
        return
        ;;
    esac
}

_dtledger_incident() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __dtledger_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    open|priority|update|milestone|resolve|reopen)
        # Offer subcommand argument completions
        "_dtledger_incident_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'open priority update milestone resolve reopen' -- "${cur}"))
        ;;
    esac
}

_dtledger_incident_open() {
    repeating_flags=()
    non_repeating_flags=(--json --data-compromise-suspected --impacts-mobile --version -h --help)
    repeating_options=(--services)
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --team --summary --users --started-at --product)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--team')
        __dtledger_add_completions -W 'api-platform'$'\n''user-facing'$'\n''vagov-platform'$'\n''vahb-platform'
        return
        ;;
    '--summary')
        return
        ;;
    '--users')
        return
        ;;
    '--services')
        return
        ;;
    '--started-at')
        return
        ;;
    '--product')
        return
        ;;
    esac
}

_dtledger_incident_priority() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --priority --reason)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--priority')
        __dtledger_add_completions -W 'P1'$'\n''P2'$'\n''P3'$'\n''P4'
        return
        ;;
    '--reason')
        return
        ;;
    esac
}

_dtledger_incident_update() {
    repeating_flags=()
    non_repeating_flags=(--json --data-compromise-suspected --no-data-compromise-suspected --impacts-mobile --no-impacts-mobile --version -h --help)
    repeating_options=(--services)
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --summary --users --product)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--summary')
        return
        ;;
    '--users')
        return
        ;;
    '--services')
        return
        ;;
    '--product')
        return
        ;;
    esac
}

_dtledger_incident_milestone() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --kind --note)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--kind')
        __dtledger_add_completions -W 'group_chat_convened'$'\n''solution_determined'$'\n''root_cause_ruled_out'$'\n''contained'$'\n''eradicated'$'\n''recovered'$'\n''mim_triggered'
        return
        ;;
    '--note')
        return
        ;;
    esac
}

_dtledger_incident_resolve() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --resolution)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--resolution')
        return
        ;;
    esac
}

_dtledger_incident_reopen() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --reason)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--reason')
        return
        ;;
    esac
}

_dtledger_notify() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __dtledger_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    slack|email)
        # Offer subcommand argument completions
        "_dtledger_notify_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'slack email' -- "${cur}"))
        ;;
    esac
}

_dtledger_notify_slack() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--audience --content)
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --destination --purpose --message-ref --edits)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--destination')
        return
        ;;
    '--audience')
        return
        ;;
    '--purpose')
        __dtledger_add_completions -W 'planning'$'\n''day_before'$'\n''concluded'$'\n''initial'$'\n''priority'$'\n''update'$'\n''milestone'$'\n''resolved'$'\n''other'
        return
        ;;
    '--content')
        return
        ;;
    '--message-ref')
        return
        ;;
    '--edits')
        return
        ;;
    esac
}

_dtledger_notify_email() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--audience --content)
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --destination --purpose --message-ref --edits)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--destination')
        return
        ;;
    '--audience')
        return
        ;;
    '--purpose')
        __dtledger_add_completions -W 'planning'$'\n''day_before'$'\n''concluded'$'\n''initial'$'\n''priority'$'\n''update'$'\n''milestone'$'\n''resolved'$'\n''other'
        return
        ;;
    '--content')
        return
        ;;
    '--message-ref')
        return
        ;;
    '--edits')
        return
        ;;
    esac
}

_dtledger_ticket() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __dtledger_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    submit|approve)
        # Offer subcommand argument completions
        "_dtledger_ticket_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'submit approve' -- "${cur}"))
        ;;
    esac
}

_dtledger_ticket_submit() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --system --number --purpose --url)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--system')
        return
        ;;
    '--number')
        return
        ;;
    '--purpose')
        __dtledger_add_completions -W 'downtime_approval'$'\n''security_incident'$'\n''other'
        return
        ;;
    '--url')
        return
        ;;
    esac
}

_dtledger_ticket_approve() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --ticket --approver --decision)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--ticket')
        return
        ;;
    '--approver')
        return
        ;;
    '--decision')
        __dtledger_add_completions -W 'approved'$'\n''rejected'
        return
        ;;
    esac
}

_dtledger_window() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __dtledger_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    set|verify)
        # Offer subcommand argument completions
        "_dtledger_window_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'set verify' -- "${cur}"))
        ;;
    esac
}

_dtledger_window_set() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--services)
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --system --window-id --start --end)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--system')
        return
        ;;
    '--window-id')
        return
        ;;
    '--start')
        return
        ;;
    '--end')
        return
        ;;
    '--services')
        return
        ;;
    esac
}

_dtledger_window_verify() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --window-id)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--window-id')
        return
        ;;
    esac
}

_dtledger_escalate() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --to --reference)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--to')
        return
        ;;
    '--reference')
        return
        ;;
    esac
}

_dtledger_note() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --text)
    __dtledger_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--text')
        return
        ;;
    esac
}

_dtledger_retract() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--database-url --case --at --occurred-at --actor --key --reason)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--case')
        return
        ;;
    '--at'|'--occurred-at')
        return
        ;;
    '--actor')
        return
        ;;
    '--key')
        return
        ;;
    '--reason')
        return
        ;;
    esac
}

_dtledger_import() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __dtledger_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    pagerduty|slack|servicenow)
        # Offer subcommand argument completions
        "_dtledger_import_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'pagerduty slack servicenow' -- "${cur}"))
        ;;
    esac
}

_dtledger_import_pagerduty() {
    repeating_flags=()
    non_repeating_flags=(--strict --dry-run --json --verify-signature --version -h --help)
    repeating_options=(--map)
    non_repeating_options=(--database-url --config --case --actor --secret-env --team)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--config')
        return
        ;;
    '--case')
        return
        ;;
    '--map')
        return
        ;;
    '--actor')
        return
        ;;
    '--secret-env')
        return
        ;;
    '--team')
        __dtledger_add_completions -W 'api-platform'$'\n''user-facing'$'\n''vagov-platform'$'\n''vahb-platform'
        return
        ;;
    esac
}

_dtledger_import_slack() {
    repeating_flags=()
    non_repeating_flags=(--strict --dry-run --json --verify-signature --version -h --help)
    repeating_options=(--map)
    non_repeating_options=(--database-url --config --case --actor --secret-env --purpose)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--config')
        return
        ;;
    '--case')
        return
        ;;
    '--map')
        return
        ;;
    '--actor')
        return
        ;;
    '--secret-env')
        return
        ;;
    '--purpose')
        __dtledger_add_completions -W 'planning'$'\n''day_before'$'\n''concluded'$'\n''initial'$'\n''priority'$'\n''update'$'\n''milestone'$'\n''resolved'$'\n''other'
        return
        ;;
    esac
}

_dtledger_import_servicenow() {
    repeating_flags=()
    non_repeating_flags=(--strict --dry-run --json --version -h --help)
    repeating_options=(--map)
    non_repeating_options=(--database-url --config --case --actor)
    __dtledger_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--database-url')
        return
        ;;
    '--config')
        return
        ;;
    '--case')
        return
        ;;
    '--map')
        return
        ;;
    '--actor')
        return
        ;;
    esac
}

_dtledger_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __dtledger_offer_flags_options -1
}

complete -o filenames -F _dtledger dtledger
