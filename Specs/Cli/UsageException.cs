namespace Specs.Cli;

/// <summary>
/// A mistake in how the program was called that only shows once a command runs (a data set too small for the batch,
/// say): reported as one line without a stack trace, exit code 2. Mistakes visible in the arguments alone are the
/// settings' <c>Validate()</c>'s.
/// </summary>
public sealed class UsageException(string message) : Exception(message);
