namespace Dsl.Visualization;

/// <summary>
/// Gradient saliency (Simonyan et al., "Deep Inside Convolutional Networks", 2014: |d score / d input|, the largest over
/// the colour channels) and the DeconvNet and guided-backpropagation pictures, which run the same backward pass with
/// <see cref="Module.ReluBackward"/> set to their rule. The score is the network's output at the target class (a
/// log-probability for a network ending in <c>LogSoftmax</c>).
/// </summary>
public static class Saliency
{
    /// <summary>
    /// d output[target] / d input for <paramref name="image"/> [C,H,W] (or [1,C,H,W]) in evaluation mode under
    /// <paramref name="rule"/>. The network's mode, <c>ComputeInputGradient</c> and <c>ReluBackward</c> are restored after,
    /// and the parameters' gradients are cleared (the backward pass adds to them).
    /// </summary>
    public static float[] InputGradient(Module net, Tensor image, int target, ReluBackwardRule rule = ReluBackwardRule.Standard)
    {
        ArgumentNullException.ThrowIfNull(net);
        var (values, shape) = NetworkRuns.Sample(image, nameof(Saliency));
        var restore = NetworkRuns.Evaluating(net);
        bool inputGradient = net.ComputeInputGradient;
        var previous = net.ReluBackward;
        try
        {
            net.ComputeInputGradient = true;
            net.ReluBackward = rule;
            var output = net.Forward(NetworkRuns.Batch(net, values, 1, shape));
            int classes = (int)output.Length;
            if (target < 0 || target >= classes)
            {
                throw new ArgumentOutOfRangeException(nameof(target), $"{net.NetworkName} has {classes} outputs per sample; got target {target}.");
            }
            var seed = new float[classes];
            seed[target] = 1f;
            net.ZeroGrad();
            net.Backward(Tensor.From(seed, net.Device, output.Shape));
            return net.InputGradient!.ToArray();
        }
        finally
        {
            net.ZeroGrad();
            net.ReluBackward = previous;
            net.ComputeInputGradient = inputGradient;
            restore();
        }
    }

    /// <summary>The gradients of <paramref name="image"/> for class <paramref name="target"/> under all three rules.</summary>
    public static SaliencyMaps Compute(Module net, Tensor image, int target)
    {
        var (_, shape) = NetworkRuns.Sample(image, nameof(Saliency));
        return new SaliencyMaps(InputGradient(net, image, target), InputGradient(net, image, target, ReluBackwardRule.DeconvNet),
            InputGradient(net, image, target, ReluBackwardRule.Guided), shape[0], shape[1], shape[2], target);
    }

    /// <summary>Per pixel [H*W], the largest |value| over the channels of <paramref name="gradient"/> [C*H*W].</summary>
    public static float[] Magnitude(float[] gradient, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        int plane = height * width;
        if (gradient.Length != channels * plane)
        {
            throw new ArgumentException($"expected {channels} x {height} x {width} values; got {gradient.Length}.", nameof(gradient));
        }
        var map = new float[plane];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                map[i] = MathF.Max(map[i], MathF.Abs(gradient[c * plane + i]));
            }
        }
        return map;
    }

    /// <summary>
    /// Writes the image beside its saliency (|gradient|, heat), DeconvNet and guided-backpropagation pictures (the
    /// gradients themselves, grey or RGB scaled over their range, as the papers show them).
    /// </summary>
    public static Picture Write(SaliencyMaps maps, Tensor image, string path, int scale = 8)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var (values, shape) = NetworkRuns.Sample(image, nameof(Saliency));
        var tiles = new[]
        {
            NetworkRuns.ImageTile(values, shape, "image"),
            new ImageTile(Magnitude(maps.Gradient, maps.Channels, maps.Height, maps.Width), 1, maps.Height, maps.Width, "saliency", Heat: true),
            NetworkRuns.ImageTile(maps.DeconvNet, shape, "deconvnet"),
            NetworkRuns.ImageTile(maps.Guided, shape, "guided"),
        };
        return ImageGrid.Write(path, tiles, 4, scale, System.FormattableString.Invariant($"class {maps.Target}"));
    }
}
