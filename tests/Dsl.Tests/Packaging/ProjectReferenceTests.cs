using Dsl.Tests.Generator;
using Xunit;

namespace Dsl.Tests.Packaging;

/// <summary>
/// The same user code built against this repository's projects, referenced the way Specs/Specs.csproj references
/// them: the DSL and the runtime as assemblies, the generator as an analyzer.
/// </summary>
[Collection(PackagingCollection.Name)]
[Trait("Category", "Packaging")]
public class ProjectReferenceTests
{
    [Fact]
    public void Project_reference_builds_a_user_network()
    {
        using var workspace = new TempWorkspace("projectref");
        string repo = GeneratorHarness.RepoRoot();
        // Dsl's reference to Runtime is PrivateAssets (it ships inside the package, not as a dependency), so it does
        // not flow through a ProjectReference to Dsl: a project in source form references Runtime itself.
        string references = $"""
                <ProjectReference Include="{Path.Combine(repo, "Dsl", "Dsl.csproj")}" />
                <ProjectReference Include="{Path.Combine(repo, "Runtime", "Runtime.csproj")}" />
                <ProjectReference Include="{Path.Combine(repo, "Generator", "Generator.csproj")}" ReferenceOutputAssembly="false" OutputItemType="Analyzer" />
            """;
        // All outputs, the referenced projects' included, go to the workspace rather than the repository's bin/ and obj/.
        string[] artifacts = ["--artifacts-path", workspace.PathOf("artifacts")];

        workspace.Write("User/User.csproj", UserProgram.Project(references));
        workspace.Write("User/TinyClassifier.cs", UserProgram.Network);
        workspace.Write("User/Program.cs", UserProgram.Program);
        DotnetCli.Run(workspace.Root, null, ["build", "User", .. artifacts, .. DotnetCli.NoBuildServers])
            .ShouldSucceed()
            .ShouldHaveNoWarnings();
        UserProgram.AssertRanCorrectly(DotnetCli.Run(workspace.Root, null, ["run", "--project", "User", "--no-build", .. artifacts]));

        workspace.Write("ShapeError/ShapeError.csproj", UserProgram.Project(references));
        workspace.Write("ShapeError/WrongWidth.cs", UserProgram.ShapeErrorNetwork);
        workspace.Write("ShapeError/Program.cs", UserProgram.ShapeErrorProgram);
        UserProgram.AssertShapeErrorReported(
            DotnetCli.Run(workspace.Root, null, ["build", "ShapeError", .. artifacts, .. DotnetCli.NoBuildServers]));
    }
}
