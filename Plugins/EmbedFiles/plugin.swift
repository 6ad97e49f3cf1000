import Foundation
import PackagePlugin

/// Embeds the package's data files into the module that needs them, so the
/// `dtledger` binary carries its migrations and default policy with it:
/// `Ledger` gets `Migrations/*.sql`, `Domain` gets `Policies/*.yaml`.
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder: String
        let suffix: String
        switch target.name {
        case "Ledger": (folder, suffix) = ("Migrations", ".sql")
        case "Domain": (folder, suffix) = ("Policies", ".yaml")
        default: return []
        }
        let directory = context.package.directoryURL.appending(path: folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(suffix) }
            .sorted()
        let inputs = names.map { directory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(folder)/*\(suffix) into \(target.name)",
                executable: try context.tool(named: "embed-files").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            ),
        ]
    }
}
