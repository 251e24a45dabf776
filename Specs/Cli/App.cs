using Dsl.Data;

namespace Specs.Cli;

/// <summary>The command-line entry point: dispatches to the commands and turns user errors into exit code 2.</summary>
public static class App
{
    public const int UsageError = 2;

    public static readonly string Usage =
        "usage: specs <command> ...\n" +
        "  list                      the networks and their default recipes\n" +
        "  summary <network>         a network's layers, shapes and parameter counts\n" +
        "  " + TrainCommand.Usage + "\n" +
        "  " + BenchCommand.Usage.Replace("\n", "\n  ", StringComparison.Ordinal);

    /// <summary>Runs the command in <paramref name="args"/>; returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
            {
                output.WriteLine(Usage);
                return args.Length == 0 ? UsageError : 0;
            }
            var rest = args.Skip(1).ToArray();
            return args[0] switch
            {
                "train" => TrainCommand.Run(rest, output),
                "summary" => SummaryCommand.Run(rest, output),
                "list" => ListCommand.Run(rest),
                "bench" => BenchCommand.Run(rest, output),
                _ => throw new UsageException($"unknown command '{args[0]}'."),
            };
        }
        catch (Exception e) when (e is UsageException or IdxFormatException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            error.WriteLine($"error: {e.Message}");
            if (e is UsageException && e.Message.StartsWith("unknown command", StringComparison.Ordinal))
            {
                error.WriteLine(Usage);
            }
            return UsageError;
        }
    }
}
