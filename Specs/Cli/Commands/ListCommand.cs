using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>list</c>: the catalog's networks with their descriptions, inputs and default recipes.</summary>
public sealed class ListCommand(CliOutput output) : Command
{
    public override int Execute(CommandContext context, CancellationToken cancellationToken)
    {
        if (NetworkCatalog.All.Count == 0)
        {
            output.Console.WriteLine("No networks are registered yet.");
            return 0;
        }
        // Names stay whole (they are what 'train' takes); the prose columns wrap.
        var table = new Table().AddColumn(new TableColumn("network").NoWrap()).AddColumns("description", "input", "data", "default recipe");
        foreach (var n in NetworkCatalog.All)
        {
            table.AddRow(
                Markup.Escape(n.Name),
                Markup.Escape(n.Description),
                Markup.Escape(n.FormatInput()),
                Markup.Escape(n.Task.Data),
                Markup.Escape(n.DefaultRecipe.ToString()));
        }
        output.Console.Write(table);
        return 0;
    }
}
