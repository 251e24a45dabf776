using Specs.Cli;
using Xunit;

namespace Dsl.Tests.Cli;

/// <summary>
/// The generated summaries and the CLI's tables fit 80 columns: every catalog network's <c>Summary</c>, and what
/// <c>summary</c> and <c>list</c> print through the command-line app.
/// </summary>
public class TableWidthTests
{
    private static void AssertFits(string text, string what)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var wide = lines.Where(l => l.Length > CliOutput.MaxWidth).ToList();
        Assert.True(wide.Count == 0, $"{what}: {wide.Count} lines exceed {CliOutput.MaxWidth} columns, the first ({wide.FirstOrDefault()?.Length}):\n{wide.FirstOrDefault()}");
    }

    public static TheoryData<string> Networks()
    {
        var data = new TheoryData<string>();
        foreach (var e in NetworkCatalog.All)
        {
            data.Add(e.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Every_catalog_networks_summary_fits_80_columns(string name)
    {
        var info = NetworkCatalog.All.Single(e => e.Name == name);
        string summary = info.Summary();
        Assert.Contains("Total params: ", summary);
        AssertFits(summary, name + ".Summary");
        var output = new StringWriter();
        Assert.Equal(0, App.Run(["summary", name], output, new StringWriter()));
        AssertFits(output.ToString(), "summary " + name);
    }

    [Fact]
    public void The_list_table_fits_80_columns()
    {
        var output = new StringWriter();
        Assert.Equal(0, App.Run(["list"], output, new StringWriter()));
        Assert.Contains("mnist-net", output.ToString());
        AssertFits(output.ToString(), "list");
    }

    [Fact]
    public void Branches_of_concat_and_residual_show_as_a_tree_with_block_names()
    {
        string google = Specs.Networks.GoogLeNetSmall.Summary;
        Assert.Contains("branch 2 of [17] Concat(4 branches)", google);
        string resnet = Specs.Networks.ResNet20.Summary;
        Assert.Contains("body of [9] Residual", resnet);
        Assert.Contains("block ", resnet);
    }

    [Fact]
    public void Symbolic_dimensions_print_as_expressions()
    {
        Assert.Contains("[N,100,T-2]", Specs.Networks.KimCnn.Summary);
    }
}
