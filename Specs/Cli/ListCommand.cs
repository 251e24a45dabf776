using Spectre.Console;

namespace Specs.Cli;

/// <summary><c>list</c>: the catalog's networks with their descriptions, inputs and default recipes.</summary>
public static class ListCommand
{
    public static int Run(IEnumerable<string> args)
    {
        _ = new Options("list", args);
        if (NetworkCatalog.All.Count == 0)
        {
            AnsiConsole.WriteLine("No networks are registered yet.");
            return 0;
        }
        var table = new Table().AddColumns("network", "description", "input", "default recipe");
        foreach (var n in NetworkCatalog.All)
        {
            table.AddRow(
                Markup.Escape(n.Name),
                Markup.Escape(n.Description),
                Markup.Escape("[" + string.Join(",", n.InputShape) + "]"),
                Markup.Escape(n.DefaultRecipe.ToString()));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
