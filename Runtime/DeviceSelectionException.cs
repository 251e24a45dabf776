namespace Dsl;

/// <summary>
/// The device named by the <c>DSL_DEVICE</c> environment variable cannot be used (an unknown name, or <c>gpu</c> on a
/// machine without one). The message is one line that names the variable and its value; a command-line program prints
/// it and exits non-zero.
/// </summary>
public sealed class DeviceSelectionException : InvalidOperationException
{
    public DeviceSelectionException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
