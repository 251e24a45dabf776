namespace Specs.Cli;

/// <summary><c>summary &lt;network&gt;</c>: the network's generated layer table.</summary>
public static class SummaryCommand
{
    public static int Run(IEnumerable<string> args, TextWriter output)
    {
        var o = new Options("summary", args);
        var info = NetworkCatalog.Get(o.Single("a network name (see 'list')"));
        output.WriteLine(info.Summary());
        return 0;
    }
}
