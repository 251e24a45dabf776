namespace Dsl;

/// <summary>
/// Elementwise nonlinearities, with PyTorch's definitions. The kind and its scalar math (<see cref="ActivationMath"/>)
/// share this file, so a new activation is one entry here, its formulas below, the DSL's layer and one line in the
/// generator's activation table.
/// </summary>
public enum ActivationKind
{
    /// <summary>max(0, x).</summary>
    Relu,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>1 / (1 + exp(-x)).</summary>
    Sigmoid,
    /// <summary>x if x &gt; 0 else alpha * x (PyTorch's default slope 0.01).</summary>
    LeakyRelu,
    /// <summary>x if x &gt; 0 else alpha * (exp(x) - 1) (default alpha 1).</summary>
    Elu,
    /// <summary>x * Phi(x) with the exact Gaussian CDF (PyTorch's default, approximate='none').</summary>
    Gelu,
    /// <summary>
    /// log(1 + exp(beta * x)) / beta, and x where beta * x &gt; threshold (PyTorch's <c>nn.Softplus(beta=1, threshold=20)</c>):
    /// beta travels as the activation's alpha, the threshold as its second parameter.
    /// </summary>
    Softplus,
}

/// <summary>
/// Scalar definitions of every <see cref="ActivationKind"/> and its derivative: the CPU's fallback
/// loop and the ILGPU kernels both call these, so the two devices cannot drift apart.
/// </summary>
/// <remarks>
/// Parameters: <c>alpha</c> is LeakyRelu's slope, Elu's scale and Softplus's beta; <c>threshold</c> is Softplus's
/// linear threshold (the others ignore it). A kind outside the enum yields NaN here, because ILGPU kernels cannot
/// throw; <see cref="Device.Activation(ActivationKind, float, float, Tensor, Tensor)"/> rejects it before any kernel runs
/// (<see cref="Require"/>).
/// </remarks>
public static class ActivationMath
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>PyTorch's default Softplus threshold.</summary>
    public const float DefaultSoftplusThreshold = 20f;

    public static float Forward(ActivationKind kind, float alpha, float x) => Forward(kind, alpha, DefaultSoftplusThreshold, x);

    /// <summary>
    /// max(0, x) as PyTorch's <c>relu</c> and the CPU's vector max: a NaN stays NaN (<c>x &gt; 0 ? x : 0</c> turned it
    /// into 0), and -0 becomes +0. Every fused ReLU of the ILGPU kernels calls it too.
    /// </summary>
    public static float Relu(float x) => x <= 0f ? 0f : x;

    public static float Forward(ActivationKind kind, float alpha, float threshold, float x) => kind switch
    {
        ActivationKind.Relu => Relu(x),
        ActivationKind.Tanh => MathF.Tanh(x),
        ActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        ActivationKind.LeakyRelu => x > 0f ? x : alpha * x,
        ActivationKind.Elu => x > 0f ? x : alpha * (MathF.Exp(x) - 1f),
        ActivationKind.Gelu => 0.5f * x * (1f + Erf(x * InvSqrt2)),
        ActivationKind.Softplus => Softplus(alpha, threshold, x),
        _ => float.NaN,
    };

    /// <summary>f'(x), given x and y = f(x).</summary>
    public static float Derivative(ActivationKind kind, float alpha, float x, float y) => Derivative(kind, alpha, DefaultSoftplusThreshold, x, y);

    /// <summary>f'(x), given x and y = f(x), with Softplus's threshold.</summary>
    public static float Derivative(ActivationKind kind, float alpha, float threshold, float x, float y) => kind switch
    {
        ActivationKind.Relu => x > 0f ? 1f : 0f,
        ActivationKind.Tanh => 1f - y * y,
        ActivationKind.Sigmoid => y * (1f - y),
        ActivationKind.LeakyRelu => x > 0f ? 1f : alpha,
        ActivationKind.Elu => x > 0f ? 1f : y + alpha,
        ActivationKind.Gelu => 0.5f * (1f + Erf(x * InvSqrt2)) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x),
        // PyTorch's softplus_backward: sigmoid(beta*x) below the threshold, 1 above it.
        ActivationKind.Softplus => x * alpha > threshold ? 1f : 1f / (1f + MathF.Exp(-alpha * x)),
        _ => float.NaN,
    };

    /// <summary>Throws when <paramref name="kind"/> is not one of the defined kinds (the kernels cannot).</summary>
    public static void Require(ActivationKind kind, string op)
    {
        if (kind < ActivationKind.Relu || kind > ActivationKind.Softplus)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), $"{op}: unknown activation kind {(int)kind}.");
        }
    }

    /// <summary>
    /// log1p(exp(beta*x)) / beta, written as max(z,0) + log1p(exp(-|z|)) so large |z| neither overflows nor loses the
    /// linear part; x itself above the threshold (PyTorch's rule).
    /// </summary>
    public static float Softplus(float beta, float threshold, float x)
    {
        float z = x * beta;
        if (z > threshold)
        {
            return x;
        }
        return (MathF.Max(z, 0f) + Log1p(MathF.Exp(-MathF.Abs(z)))) / beta;
    }

    /// <summary>log(1 + u) for u in [0, 1], accurate for small u (the (u / ((1+u)-1)) correction of Goldberg's note).</summary>
    private static float Log1p(float u)
    {
        float w = 1f + u;
        return w == 1f ? u : MathF.Log(w) * (u / (w - 1f));
    }

    /// <summary>The error function, from Numerical Recipes' Chebyshev fit of erfc (fractional error below 1.2e-7).</summary>
    public static float Erf(float x)
    {
        float z = MathF.Abs(x);
        float t = 1f / (1f + 0.5f * z);
        float r = t * MathF.Exp(-z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f
            + t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f
            + t * (-0.82215223f + t * 0.17087277f)))))))));
        float erf = 1f - r;
        return x >= 0f ? erf : -erf;
    }
}
