namespace Dsl;

/// <summary>
/// How a network's <c>Relu</c> layers pass gradients back (<see cref="Module.ReluBackward"/>). Only
/// <see cref="Standard"/> is the derivative; the other two are the modified rules of the visualisation literature,
/// which make a backward pass from a class score draw the input patterns that excite it.
/// </summary>
public enum ReluBackwardRule
{
    /// <summary>dx = dy where x &gt; 0, else 0: the true gradient (the default).</summary>
    Standard,

    /// <summary>
    /// dx = max(dy, 0) whatever x was: DeconvNet's rectified reconstruction (Zeiler and Fergus, "Visualizing and
    /// Understanding Convolutional Networks", 2014).
    /// </summary>
    DeconvNet,

    /// <summary>
    /// dx = dy where x &gt; 0 and dy &gt; 0, else 0: guided backpropagation (Springenberg et al., "Striving for Simplicity:
    /// The All Convolutional Net", 2015), the two rules above together.
    /// </summary>
    Guided,
}

/// <summary>The scalar rule both devices call (the CPU's tail loop and the ILGPU kernel), so they cannot drift apart.</summary>
public static class ReluBackwardMath
{
    /// <summary>
    /// The gradient <see cref="ReluBackwardRule"/> <paramref name="rule"/> passes to the input, given the layer's input
    /// (or its output: both are positive at the same places) and the output's gradient. An unknown rule yields NaN, as
    /// kernels cannot throw; <see cref="Device.ReluBackward"/> refuses it first (<see cref="Require"/>).
    /// </summary>
    public static float Gradient(ReluBackwardRule rule, float x, float dy) => rule switch
    {
        ReluBackwardRule.Standard => x > 0f ? dy : 0f,
        ReluBackwardRule.DeconvNet => dy > 0f ? dy : 0f,
        ReluBackwardRule.Guided => x > 0f && dy > 0f ? dy : 0f,
        _ => float.NaN,
    };

    /// <summary>Throws when <paramref name="rule"/> is not one of the defined rules.</summary>
    public static void Require(ReluBackwardRule rule, string op)
    {
        if (rule < ReluBackwardRule.Standard || rule > ReluBackwardRule.Guided)
        {
            throw new ArgumentOutOfRangeException(nameof(rule), $"{op}: unknown ReLU backward rule {(int)rule}.");
        }
    }
}
