using System.IO.Compression;
using System.Xml.Linq;
using Dsl.Tests.Generator;
using Xunit;

namespace Dsl.Tests.Packaging;

/// <summary>
/// Packs Dsl/Dsl.csproj as a release would and consumes the package the way a user does: one PackageReference,
/// restored from a local feed, with nothing of this repository on the user's side.
/// </summary>
[Collection(PackagingCollection.Name)]
[Trait("Category", "Packaging")]
public class DslPackageTests
{
    [Fact]
    public void Packed_package_builds_and_runs_a_user_network()
    {
        using var workspace = new TempWorkspace("package");
        // A version no earlier run used, so no cached copy of an older package can stand in for this one.
        string version = $"0.1.0-test.r{Guid.NewGuid():N}"[..28];
        string feed = workspace.PathOf("feed");
        string machinePackages = GlobalPackagesFolder(workspace.Root);

        // Build outputs go to the workspace, not to the repository's bin/ and obj/ folders.
        DotnetCli.Run(GeneratorHarness.RepoRoot(), null,
            [
                "pack", Path.Combine(GeneratorHarness.RepoRoot(), "Dsl", "Dsl.csproj"), "-c", "Release", "-o", feed,
                "--artifacts-path", workspace.PathOf("artifacts"), $"-p:PackageVersion={version}", .. DotnetCli.NoBuildServers,
            ])
            .ShouldSucceed()
            .ShouldHaveNoWarnings();
        AssertLayout(Path.Combine(feed, $"Dsl.{version}.nupkg"), version);

        // The user's feeds are the local one plus the machine's (inherited, not cleared). Packages restore into a
        // private folder so this prerelease never lands in the machine's cache; the machine's cache is a fallback
        // folder, so ILGPU and System.Numerics.Tensors come from it without a download.
        workspace.Write("nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="dsl-under-test" value="{feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{machinePackages}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = workspace.PathOf("packages") };
        // An unreachable remote feed must not fail an offline run: everything needed is local.
        string[] restoreOffline = ["-p:RestoreIgnoreFailedSources=true"];
        const string noWarnUnreachableFeed = "\n    <NoWarn>$(NoWarn);NU1801</NoWarn>";
        string reference = $"""    <PackageReference Include="Dsl" Version="[{version}]" />""";

        workspace.Write("User/User.csproj", UserProgram.Project(reference, noWarnUnreachableFeed));
        workspace.Write("User/TinyClassifier.cs", UserProgram.Network);
        workspace.Write("User/Program.cs", UserProgram.Program);
        DotnetCli.Run(workspace.Root, environment, ["build", "User", .. restoreOffline, .. DotnetCli.NoBuildServers])
            .ShouldSucceed()
            .ShouldHaveNoWarnings();
        UserProgram.AssertRanCorrectly(DotnetCli.Run(workspace.Root, environment, "run", "--project", "User", "--no-build"));

        workspace.Write("Fit/Fit.csproj", UserProgram.Project(reference, noWarnUnreachableFeed));
        workspace.Write("Fit/SmallMlp.cs", FitUserProgram.Network);
        workspace.Write("Fit/Program.cs", FitUserProgram.Program);
        DotnetCli.Run(workspace.Root, environment, ["build", "Fit", .. restoreOffline, .. DotnetCli.NoBuildServers])
            .ShouldSucceed()
            .ShouldHaveNoWarnings();
        string slice = Path.Combine(GeneratorHarness.RepoRoot(), "Specs", "Data", "fashion-mnist");
        FitUserProgram.AssertRanCorrectly(DotnetCli.Run(workspace.Root, environment,
            "run", "--project", "Fit", "--no-build", "--", slice, workspace.PathOf("best.safetensors")));

        workspace.Write("ShapeError/ShapeError.csproj", UserProgram.Project(reference, noWarnUnreachableFeed));
        workspace.Write("ShapeError/WrongWidth.cs", UserProgram.ShapeErrorNetwork);
        workspace.Write("ShapeError/Program.cs", UserProgram.ShapeErrorProgram);
        UserProgram.AssertShapeErrorReported(
            DotnetCli.Run(workspace.Root, environment, ["build", "ShapeError", .. restoreOffline, .. DotnetCli.NoBuildServers]));

        Assert.True(Directory.Exists(Path.Combine(workspace.PathOf("packages"), "dsl", version)), "The package was not restored into the private folder.");
        Assert.False(Directory.Exists(Path.Combine(machinePackages, "dsl", version)), "The test package leaked into the machine's package cache.");
    }

    /// <summary>The runtime and the DSL in lib/, the generator as an analyzer, and exactly the runtime's five package dependencies.</summary>
    private static void AssertLayout(string nupkg, string version)
    {
        Assert.True(File.Exists(nupkg), $"{nupkg} was not created.");
        using var zip = ZipFile.OpenRead(nupkg);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        string listing = string.Join("\n", entries.Order());
        foreach (var expected in new[]
        {
            "lib/net10.0/Dsl.dll", "lib/net10.0/Dsl.xml", "lib/net10.0/Dsl.Runtime.dll", "lib/net10.0/Dsl.Runtime.xml",
            "analyzers/dotnet/cs/Dsl.Generator.dll", "README.md", "Dsl.nuspec",
        })
        {
            Assert.True(entries.Contains(expected), $"The package lacks {expected}; it holds:\n{listing}");
        }
        // The generator must not also be a compile reference, and nothing else may be shipped as an assembly.
        var assemblies = entries.Where(e => e.EndsWith(".dll", StringComparison.Ordinal)).Order().ToArray();
        Assert.Equal(new[] { "analyzers/dotnet/cs/Dsl.Generator.dll", "lib/net10.0/Dsl.Runtime.dll", "lib/net10.0/Dsl.dll" }, assemblies);

        using var nuspecStream = zip.GetEntry("Dsl.nuspec")!.Open();
        var nuspec = XDocument.Load(nuspecStream);
        XNamespace ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("Dsl", metadata.Element(ns + "id")!.Value);
        Assert.Equal(version, metadata.Element(ns + "version")!.Value);
        var dependencies = metadata.Descendants(ns + "dependency")
            .Select(d => $"{d.Attribute("id")!.Value} {d.Attribute("version")!.Value}")
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(new[] { "ILGPU 1.5.3", "ILGPU.Algorithms 1.5.3", "ScottPlot 5.1.59", "Spectre.Console 0.57.2", "System.Numerics.Tensors 10.0.15" }, dependencies);
    }

    /// <summary>Where restore keeps packages on this machine (NUGET_PACKAGES, a config setting, or the default).</summary>
    private static string GlobalPackagesFolder(string workingDirectory)
    {
        var result = DotnetCli.Run(workingDirectory, null, "nuget", "locals", "global-packages", "--list").ShouldSucceed();
        const string prefix = "global-packages: ";
        var line = result.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(line is not null, "Could not read the global packages folder:\n" + result);
        return line![prefix.Length..];
    }
}
