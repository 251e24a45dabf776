using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Xunit.Sdk;

namespace Dsl.Tests;

/// <summary>
/// Verify's conventions without Verify (its core package is not served here): the expected text lives in
/// <c>Name.verified.cs</c> beside the test; a mismatch writes <c>Name.received.cs</c> and fails with a line diff;
/// setting <c>DSL_ACCEPT_SNAPSHOTS=1</c> accepts the received text. Swap for Verify when it can be restored.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "DSL_ACCEPT_SNAPSHOTS";

    public static void Verify(string actual, string name, [CallerFilePath] string testFile = "")
    {
        string folder = Path.GetDirectoryName(testFile)!;
        string verified = Path.Combine(folder, name + ".verified.cs");
        string received = Path.Combine(folder, name + ".received.cs");
        actual = actual.Replace("\r\n", "\n");
        string expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : "";
        if (expected == actual)
        {
            if (File.Exists(received))
            {
                File.Delete(received);
            }
            return;
        }
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            File.WriteAllText(verified, actual);
            return;
        }
        File.WriteAllText(received, actual);
        throw new XunitException(
            $"Snapshot '{name}' differs from {Path.GetFileName(verified)} (received text written to {Path.GetFileName(received)}; " +
            $"set {AcceptVariable}=1 to accept):\n{Diff(expected, actual)}");
    }

    private static string Diff(string expected, string actual)
    {
        var diff = InlineDiffBuilder.Diff(expected, actual);
        var sb = new StringBuilder();
        int shown = 0;
        foreach (var line in diff.Lines)
        {
            if (line.Type is ChangeType.Inserted or ChangeType.Deleted && shown++ < 60)
            {
                sb.Append(line.Type == ChangeType.Inserted ? "+ " : "- ").AppendLine(line.Text);
            }
        }
        if (shown > 60)
        {
            sb.AppendLine($"... {shown - 60} more changed lines");
        }
        return sb.ToString();
    }
}
