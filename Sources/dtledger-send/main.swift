import AsyncHTTPClient
import Foundation
import VendorReplay

// dtledger-send: fake vendor senders for `dtledger serve` (docs/serve.md,
// "Trying it"). Not part of the product: it sends what Slack, PagerDuty and
// ServiceNow would send, signed with the secrets in the environment.
//
//   dtledger-send incident --url http://127.0.0.1:8787 [--start-minutes-ago 120]
//       a realistic user-facing P2 incident, every request at once (times
//       are the messages' own, in the past)
//   dtledger-send runbook --case CASE [--start-minutes-ago 120]
//       prints the same incident as runbook commands (one per line)

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
let environment = ProcessInfo.processInfo.environment
let incident = RealisticIncident(start: Date().addingTimeInterval(-minutesAgo * 60), run: options["run"] ?? String(UInt32.random(in: 100_000...999_999)))

switch command {
case "incident":
    guard let url = options["url"] else { fail("incident needs --url (the service, e.g. http://127.0.0.1:8787)") }
    let sender = Sender(baseURL: url, slackSecret: environment["SLACK_SIGNING_SECRET"],
                        pagerDutySecret: environment["PAGERDUTY_WEBHOOK_SECRET"], serviceNowToken: environment["SERVICENOW_TOKEN"])
    let client = HTTPClient.shared
    var failed = false
    for request in incident.requests {
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
default:
    fail("unknown command '\(command)' (incident, runbook)")
}
