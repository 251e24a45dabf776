using Spectre.Console;

namespace Specs.Cli;

/// <summary>
/// Where commands write: the text writer the program was given (standard output, or a test's writer) and a Spectre
/// console on the same writer for tables and help. Registered once in <see cref="App"/> and passed to every command's
/// constructor.
/// </summary>
public sealed class CliOutput
{
    public CliOutput(TextWriter output)
    {
        Out = output;
        IsTerminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        Console = ReferenceEquals(output, System.Console.Out)
            ? AnsiConsole.Console
            : AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(output),
            });
        // Every table fits a classic 80-column terminal (Spectre wraps cells to the width), and never a wider one
        // than the terminal itself.
        Console.Profile.Width = Math.Min(Console.Profile.Width, MaxWidth);
    }

    /// <summary>The widest line a table or summary prints.</summary>
    public const int MaxWidth = 80;

    /// <summary>Plain lines.</summary>
    public TextWriter Out { get; }

    /// <summary>Tables, help and live progress, on the same writer.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>True when writing to an interactive terminal, where live progress replaces plain lines.</summary>
    public bool IsTerminal { get; }
}
