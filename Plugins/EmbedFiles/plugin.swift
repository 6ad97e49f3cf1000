import Foundation
import PackagePlugin

/// Embeds the package's data files into the module that needs them, so the
/// `dtledger` binary carries its SQL and default policy with it: `Ledger`
/// gets `Migrations/*.sql` and `Migrations/functions/*.sql` (named
/// `functions/NNNN_name.sql`), `Domain` gets `Policies/*.yaml`. Each file is
/// named by its path below the folder.
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder: String
        let subfolders: [String]
        let suffix: String
        switch target.name {
        case "Ledger": (folder, subfolders, suffix) = ("Migrations", ["", "functions"], ".sql")
        case "Domain": (folder, subfolders, suffix) = ("Policies", [""], ".yaml")
        default: return []
        }
        let directory = context.package.directoryURL.appending(path: folder)
        var inputs: [URL] = []
        for subfolder in subfolders {
            let base = subfolder.isEmpty ? directory : directory.appending(path: subfolder)
            inputs += try FileManager.default.contentsOfDirectory(atPath: base.path)
                .filter { $0.hasSuffix(suffix) }
                .sorted()
                .map { base.appending(path: $0) }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(folder)/*\(suffix) into \(target.name)",
                executable: try context.tool(named: "embed-files").url,
                arguments: [output.path, directory.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            ),
        ]
    }
}
