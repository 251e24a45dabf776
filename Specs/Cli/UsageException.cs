namespace Specs.Cli;

/// <summary>
/// A mistake in how the program was called (unknown network, bad option, missing data): reported as one line
/// without a stack trace, exit code 2.
/// </summary>
public sealed class UsageException(string message) : Exception(message);
