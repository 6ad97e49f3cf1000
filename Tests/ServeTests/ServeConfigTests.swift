import Events
import Foundation
import Receiving
import Testing

@Suite("dtledger serve: its config file")
struct ServeConfigTests {
    @Test("defaults, every setting read, secrets only by variable name")
    func reads() throws {
        let c = try ServeConfig.parse("""
            listen: "[::1]:9000"
            trusted_proxies: [127.0.0.1]
            actor: receiver
            limits: {max_body_bytes: 2048, request_timeout_seconds: 5, durable_within_seconds: 1.5, batch_window_ms: 0, max_batch: 10, max_pending: 50}
            sources:
              slack: {}
              pagerduty: {webhook_secret_env: PD_SECRET}
              servicenow: {basic_user_env: SN_USER, basic_password_env: SN_PASS}
            import:
              slack:
                channels: {C1: "#one"}
            """)
        #expect(c.host == "::1" && c.port == 9000)
        #expect(c.trustedProxies == ["127.0.0.1"] && c.actor == "receiver")
        #expect(c.limits.maxBodyBytes == 2048 && c.limits.durableWithin == 1.5 && c.limits.batchWindow == 0 && c.limits.maxPending == 50)
        #expect(c.slack?.signingSecretEnv == "SLACK_SIGNING_SECRET")
        #expect(c.pagerDuty?.webhookSecretEnv == "PD_SECRET")
        #expect(c.serviceNow?.basicUserEnv == "SN_USER" && c.serviceNow?.bearerTokenEnv == nil)
        #expect(c.ingest.slackChannels == ["C1": "#one"])
        let d = try ServeConfig.parse("sources: {slack: {}}")
        #expect(d.host == "127.0.0.1" && d.port == 8787 && d.limits.durableWithin == 2.5)
        #expect(d.email == nil)
    }

    @Test("sources.email: bearer or basic, the key file relative to the config's directory, dns on by default")
    func email() throws {
        let bearer = try ServeConfig.parse("sources: {email: {bearer_token_env: RELAY_TOKEN, dkim_keys: keys/dkim.txt}}", baseDirectory: "/etc/dtledger")
        #expect(bearer.email?.bearerTokenEnv == "RELAY_TOKEN")
        #expect(bearer.email?.dkimKeys == "/etc/dtledger/keys/dkim.txt")
        #expect(bearer.email?.dns == true)
        let basic = try ServeConfig.parse("sources: {email: {basic_user_env: U, basic_password_env: P, dns: false}}")
        #expect(basic.email?.basicUserEnv == "U" && basic.email?.basicPasswordEnv == "P" && basic.email?.bearerTokenEnv == nil)
        #expect(basic.email?.dns == false && basic.email?.dkimKeys == nil)
    }

    @Test("bad configs are one clear error naming the setting",
          arguments: [
            ("listen: nowhere", "listen"),
            ("colour: blue", "colour"),
            ("limits: {max_body: 1}", "limits.max_body"),
            ("limits: {durable_within_seconds: 0}", "limits.durable_within_seconds"),
            ("sources: {teams: {}}", "sources.teams"),
            ("sources: {slack: {signing_secret_env: 'xoxb-1234 actual secret'}}", "sources.slack.signing_secret_env"),
            ("sources: {servicenow: {}}", "sources.servicenow"),
            ("sources: {servicenow: {basic_user_env: U}}", "sources.servicenow"),
            ("pollers: {servicenow: {}}", "pollers.servicenow.base_url"),
            ("sources: {email: {}}", "sources.email"),
            ("sources: {email: {basic_password_env: P}}", "sources.email"),
            ("sources: {email: {bearer_token_env: T, basic_user_env: U, basic_password_env: P}}", "sources.email"),
            ("sources: {email: {bearer_token_env: 'the token itself'}}", "sources.email.bearer_token_env"),
            ("sources: {email: {bearer_token_env: T, dns: 'yes'}}", "sources.email.dns"),
            ("sources: {email: {bearer_token_env: T, dkim_keys: 7}}", "sources.email.dkim_keys"),
            ("sources: {email: {bearer_token_env: T, dkim: x}}", "sources.email.dkim"),
            ("sources: {email: relay}", "sources.email"),
            ("import: {slack: {open_case: {C1: sometimes}}}", "import.slack.open_case.C1"),
            ("import_config: /nonexistent/import.yaml", "import_config"),
            ("[1, 2]", ""),
            ("a: [unclosed", ""),
          ])
    func refuses(_ yaml: String, _ field: String) {
        do {
            _ = try ServeConfig.parse(yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(!error.description.contains("\n"))
            if !field.isEmpty { #expect(error.field == field, "\(error.description)") }
        }
    }
}
