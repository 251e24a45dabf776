namespace Dsl;

/// <summary>
/// Marks a <c>partial class</c> whose static <c>Define()</c> method describes a network in the pipe notation.
/// The source generator checks every shape at compile time and completes the class with a constructor
/// <c>(Device device, int seed = 0)</c>, <c>Parameters</c>, <c>Forward</c>, <c>Backward</c> and a static <c>Summary</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class NetworkAttribute : Attribute
{
    /// <summary>
    /// Whether the generator fuses steps that touch the same tensor (true by default): convolution + ReLU, batch norm + ReLU
    /// (forward and backward), residual add + ReLU, and in evaluation batch norm folded into the preceding convolution's
    /// weights. <c>[Network(Fuse = false)]</c> emits one kernel per layer, as written: the reference the fused code is tested against.
    /// </summary>
    public bool Fuse { get; set; } = true;
}
