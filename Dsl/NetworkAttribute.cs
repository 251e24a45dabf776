namespace Dsl;

/// <summary>
/// Marks a <c>partial class</c> whose static <c>Define()</c> method describes a network in the pipe notation.
/// The source generator checks every shape at compile time and completes the class with a constructor
/// <c>(Device device, int seed = 0)</c>, <c>Parameters</c>, <c>Forward</c>, <c>Backward</c> and a static <c>Summary</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class NetworkAttribute : Attribute
{
}
