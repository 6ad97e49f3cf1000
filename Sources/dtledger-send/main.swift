import AsyncHTTPClient
import Foundation
import VendorReplay

// dtledger-send: fake vendor senders for `dtledger serve` (docs/serve.md,
// "Trying it"). Not part of the product: it sends what Slack, PagerDuty and
// ServiceNow would send, signed with the secrets in the environment.
//
//   dtledger-send incident --url http://127.0.0.1:8787 [--start-minutes-ago 120]
//       a realistic user-facing P2 incident that started that long ago,
//       every request at once (each carries its own time, in the past)
//   dtledger-send incident --url URL --minute-seconds 0.5
//       the same incident starting now, each request sent at its time, a
//       scenario minute taking that many seconds (90 minutes in 45 s)
//   dtledger-send runbook --case CASE [--start-minutes-ago 120]
//       prints the same incident as runbook commands (one per line)
//   dtledger-send import-config
//       prints the importer mappings the incident needs (the serve config's
//       `import_config` file: PagerDuty and ServiceNow users, the PagerDuty
//       service, the Slack channel)

func fail(_ message: String, _ code: Int32 = 64) -> Never {
    FileHandle.standardError.write(Data("dtledger-send: error: \(message)\n".utf8))
    exit(code)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail("usage: dtledger-send incident --url URL | runbook --case CASE") }
arguments.removeFirst()
var options: [String: String] = [:]
var i = 0
while i < arguments.count {
    let a = arguments[i]
    guard a.hasPrefix("--"), i + 1 < arguments.count else { fail("unexpected argument '\(a)'") }
    options[String(a.dropFirst(2))] = arguments[i + 1]
    i += 2
}
let minutesAgo = Double(options["start-minutes-ago"] ?? "120") ?? 120
let minuteSeconds = options["minute-seconds"].map { Double($0) ?? -1 }
if let m = minuteSeconds, !(m > 0 && m <= 60) { fail("--minute-seconds must be a number of seconds above 0, at most 60") }
let environment = ProcessInfo.processInfo.environment
let started = Date()
let incident = RealisticIncident(start: minuteSeconds == nil ? started.addingTimeInterval(-minutesAgo * 60) : started,
                                 run: options["run"] ?? String(UInt32.random(in: 100_000...999_999)), minute: minuteSeconds ?? 60)

switch command {
case "incident":
    guard let url = options["url"] else { fail("incident needs --url (the service, e.g. http://127.0.0.1:8787)") }
    let sender = Sender(baseURL: url, slackSecret: environment["SLACK_SIGNING_SECRET"],
                        pagerDutySecret: environment["PAGERDUTY_WEBHOOK_SECRET"], serviceNowToken: environment["SERVICENOW_TOKEN"])
    let client = HTTPClient.shared
    var failed = false
    for request in incident.requests {
        if minuteSeconds != nil {
            let wait = started.addingTimeInterval(request.offset).timeIntervalSinceNow
            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
        }
        do {
            let answer = try await sender.send(request, client: client)
            print("\(answer.status)  \(request.label)  \(answer.body.trimmingCharacters(in: .whitespacesAndNewlines))")
            if answer.status >= 300 { failed = true }
        } catch {
            print("ERR  \(request.label)  \(error)")
            failed = true
        }
    }
    print("PagerDuty incident \(incident.pdIncident) (#\(incident.pdNumber)), ServiceNow \(incident.snIncident)")
    exit(failed ? 1 : 0)
case "runbook":
    guard let caseID = options["case"] else { fail("runbook needs --case CASE") }
    for args in incident.runbook(caseID: caseID) {
        print(args.map { $0.contains(" ") || $0.contains("*") ? "'\($0)'" : $0 }.joined(separator: " "))
    }
case "import-config":
    print(RealisticIncident.importConfigYAML)
default:
    fail("unknown command '\(command)' (incident, runbook, import-config)")
}
