using System.Diagnostics;
using System.Text;

namespace Dsl.Tests.Packaging;

/// <summary>
/// Runs the <c>dotnet</c> CLI as a user would, capturing everything it prints. Every build is told not to leave
/// MSBuild nodes or compiler servers behind, so a test run ends with no processes of its own still alive.
/// </summary>
internal static class DotnetCli
{
    /// <summary>How long one command may run before it is killed: a cold restore and build on a busy machine.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>Arguments for <c>dotnet build</c> and <c>dotnet pack</c> that keep build servers from outliving the command.</summary>
    public static readonly string[] NoBuildServers = { "-nodeReuse:false", "-p:UseSharedCompilation=false" };

    /// <summary>The dotnet host that runs these tests (the SDK tells child processes where it is), else the one on PATH.</summary>
    private static string Executable => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    /// <param name="environment">Variables to set (a null value removes one) on top of the cleaned inherited environment.</param>
    public static Result Run(string workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        // The test host may run inside an MSBuild-launched process whose MSBuild* variables point a child build at
        // the parent's SDK internals; a user's shell has none of them.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }

        var output = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        bool exited = process.WaitForExit(Timeout);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }
        // The parameterless wait also drains the redirected streams.
        process.WaitForExit();
        stopwatch.Stop();
        string text;
        lock (output)
        {
            text = output.ToString();
        }
        return new Result("dotnet " + string.Join(' ', arguments), workingDirectory, exited ? process.ExitCode : -1, !exited, stopwatch.Elapsed, text);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    /// <summary>What one command did: its exit code, how long it took, and its standard output and error, interleaved.</summary>
    public sealed record Result(string Command, string WorkingDirectory, int ExitCode, bool TimedOut, TimeSpan Elapsed, string Output)
    {
        /// <summary>The whole transcript, for assertion messages.</summary>
        public override string ToString()
            => $"{Command}\n  in {WorkingDirectory}\n  exit code {ExitCode}{(TimedOut ? $" (killed after {Timeout})" : "")}, {Elapsed.TotalSeconds:F1} s\n--- output ---\n{Output}--- end of output ---";

        /// <summary>Fails with the transcript unless the command exited with 0.</summary>
        public Result ShouldSucceed()
        {
            Xunit.Assert.True(ExitCode == 0 && !TimedOut, "The command failed:\n" + this);
            return this;
        }

        /// <summary>Fails with the transcript if the output holds an MSBuild, compiler or NuGet warning.</summary>
        public Result ShouldHaveNoWarnings()
        {
            var warning = System.Text.RegularExpressions.Regex.Match(Output, @"\bwarning [A-Z]+[0-9]+\b");
            Xunit.Assert.False(warning.Success, $"The command printed '{warning.Value}':\n" + this);
            return this;
        }
    }
}
