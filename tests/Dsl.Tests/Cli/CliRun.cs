using Specs.Cli;

namespace Dsl.Tests.Cli;

/// <summary>The main program run in-process, as the command-line tests drive it: its exit code, output and error.</summary>
internal static class CliRun
{
    /// <summary>Runs <c>Specs</c> with <paramref name="args"/> and captures what it writes.</summary>
    public static (int Code, string Out, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = App.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
