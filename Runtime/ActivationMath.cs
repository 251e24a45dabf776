namespace Dsl;

/// <summary>
/// Scalar definitions of every <see cref="ActivationKind"/> and its derivative: the CPU's fallback
/// loop and the ILGPU kernels both call these, so the two devices cannot drift apart.
/// </summary>
public static class ActivationMath
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    public static float Forward(ActivationKind kind, float alpha, float x) => kind switch
    {
        ActivationKind.Relu => x > 0f ? x : 0f,
        ActivationKind.Tanh => MathF.Tanh(x),
        ActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        ActivationKind.LeakyRelu => x > 0f ? x : alpha * x,
        ActivationKind.Elu => x > 0f ? x : alpha * (MathF.Exp(x) - 1f),
        ActivationKind.Gelu => 0.5f * x * (1f + Erf(x * InvSqrt2)),
        _ => x,
    };

    /// <summary>f'(x), given x and y = f(x).</summary>
    public static float Derivative(ActivationKind kind, float alpha, float x, float y) => kind switch
    {
        ActivationKind.Relu => x > 0f ? 1f : 0f,
        ActivationKind.Tanh => 1f - y * y,
        ActivationKind.Sigmoid => y * (1f - y),
        ActivationKind.LeakyRelu => x > 0f ? 1f : alpha,
        ActivationKind.Elu => x > 0f ? 1f : y + alpha,
        ActivationKind.Gelu => 0.5f * (1f + Erf(x * InvSqrt2)) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x),
        _ => 1f,
    };

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
