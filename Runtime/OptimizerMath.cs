namespace Dsl;

/// <summary>SGD's hyper-parameters for one step, as the element update reads them.</summary>
public readonly record struct SgdHyper(float Lr, float Momentum, float Dampening, float WeightDecay, bool Nesterov, bool FirstStep);

/// <summary>
/// Adam's hyper-parameters for one step, with the bias corrections of that step folded in once on the host
/// (<see cref="StepSize"/> = lr / (1 - beta1^step), <see cref="Bc2Sqrt"/> = sqrt(1 - beta2^step)), so every device
/// updates with the same numbers.
/// </summary>
public readonly record struct AdamHyper(float Lr, float Beta1, float Beta2, float Eps, float WeightDecay, bool Decoupled, float StepSize, float Bc2Sqrt)
{
    public static AdamHyper Create(float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        float bc1 = 1f - MathF.Pow(beta1, step);
        float bc2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, step));
        return new AdamHyper(lr, beta1, beta2, eps, weightDecay, decoupled, lr / bc1, bc2Sqrt);
    }
}

/// <summary>
/// The optimisers' element updates, written once: the CPU's loops and the ILGPU kernels both call these (plain static
/// methods on scalars, no allocation), so the devices cannot drift apart. PyTorch's <c>torch.optim.SGD</c> and
/// <c>torch.optim.Adam</c>/<c>AdamW</c> (<c>foreach=False</c>) semantics.
/// </summary>
public static class OptimizerMath
{
    /// <summary>
    /// One SGD element: d = g + wd*p; with momentum b = first ? d : momentum*b + (1-dampening)*d and d = nesterov ? d + momentum*b : b;
    /// then p -= lr*d. <paramref name="buffer"/> is left alone without momentum.
    /// </summary>
    public static void Sgd(ref float param, float grad, ref float buffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        float d = grad + weightDecay * param;
        if (momentum != 0f)
        {
            float b = firstStep ? d : momentum * buffer + (1f - dampening) * d;
            buffer = b;
            d = nesterov ? d + momentum * b : b;
        }
        param -= lr * d;
    }

    /// <summary>
    /// One Adam element: weight decay (decoupled: p *= 1 - lr*wd; else g += wd*p), m and v moving averages, then
    /// p -= stepSize * m / (sqrt(v)/bc2Sqrt + eps).
    /// </summary>
    public static void Adam(ref float param, float grad, ref float m, ref float v, float lr, float beta1, float beta2, float eps, float weightDecay,
        bool decoupled, float stepSize, float bc2Sqrt)
    {
        float g = grad;
        float p = param;
        if (decoupled)
        {
            p *= 1f - lr * weightDecay;
        }
        else
        {
            g += weightDecay * p;
        }
        float mi = beta1 * m + (1f - beta1) * g;
        float vi = beta2 * v + (1f - beta2) * g * g;
        m = mi;
        v = vi;
        param = p - stepSize * mi / (MathF.Sqrt(vi) / bc2Sqrt + eps);
    }
}
