namespace Specs.Cli;

/// <summary>
/// A mistake in how the program was called that only shows once a command runs (a data set too small for the batch,
/// say): reported as one line without a stack trace, exit code 2. Mistakes visible in the arguments alone are the
/// settings' <c>Validate()</c>'s.
/// </summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// A command that ran but failed for a reason the user must see in one line (training diverged, say): App reports the
/// message without a stack trace and exits with <see cref="ExitCode"/>.
/// </summary>
public sealed class CommandFailedException(string message, int exitCode) : Exception(message)
{
    /// <summary>The process exit code, not 0.</summary>
    public int ExitCode { get; } = exitCode;
}
