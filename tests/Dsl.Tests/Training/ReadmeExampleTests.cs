using Dsl.Tests.Generator;
using Dsl.Tests.Packaging;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// The README's example compiles, here in the fast suite (the packaging test also runs it through the packed package):
/// both files with the generator, as a console program with a new console project's implicit usings.
/// </summary>
public class ReadmeExampleTests
{
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    [Fact]
    public void The_readme_example_compiles_as_a_console_program()
    {
        string network = ReadmeExample.Block("SmallMlp.cs");
        string program = ReadmeExample.Block("Program.cs");
        foreach (string call in new[] { "FashionMnist.Load(", "trainer.Fit(", "new EarlyStopping(", "new ModelCheckpoint(", "best.Restore(net)", "Trainer.Evaluate(" })
        {
            Assert.Contains(call, program);
        }
        var compilation = GeneratorHarness.Compilation(network, program, ImplicitUsings)
            .WithOptions(new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorHarness.Driver(trackSteps: false).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var errors = output.GetDiagnostics().Concat(generatorDiagnostics).Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(errors.Count == 0, "The README example does not compile cleanly:\n" + string.Join("\n", errors));
    }
}
