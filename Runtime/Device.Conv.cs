namespace Dsl;

public abstract partial class Device
{
    // ------------------------------------------------------------------ convolution (Conv.cs)

    /// <summary>y = conv2d(x, w) + b (cross-correlation, as PyTorch), shapes in <paramref name="g"/>.</summary>
    public abstract void Conv2d(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g);

    /// <summary>
    /// Gradients of <see cref="Conv2d"/>: dw += dL/dw and db += dL/db (parameter gradients accumulate, as in PyTorch);
    /// dx = dL/dx (or += when <paramref name="accumulateDx"/>), skipped when <paramref name="dx"/> is null.
    /// </summary>
    public abstract void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx);

    // ------------------------------------------------------------------ pooling (Pool.cs)

    /// <summary>Max pooling; <paramref name="argmax"/> (int32, shaped like y) records the flat input index of each maximum (padding never wins).</summary>
    public abstract void MaxPool2d(Tensor x, Tensor y, Tensor argmax, in Pool2dGeometry g);

    /// <summary>dx (+)= dy routed to the recorded maxima.</summary>
    public abstract void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, in Pool2dGeometry g, bool accumulate);

    /// <summary>Average pooling; with <paramref name="countIncludePad"/> (PyTorch's default) padding counts in the divisor.</summary>
    public abstract void AvgPool2d(Tensor x, Tensor y, in Pool2dGeometry g, bool countIncludePad);

    /// <summary>dx (+)= the gradient of <see cref="AvgPool2d"/>.</summary>
    public abstract void AvgPool2dBackward(Tensor dy, Tensor dx, in Pool2dGeometry g, bool countIncludePad, bool accumulate);

    /// <summary>
    /// Adaptive average pooling of x [N,C,H,W] to [N,C,OH,OW] (<c>nn.AdaptiveAvgPool2d</c>): output cell i covers
    /// rows floor(i*H/OH) .. ceil((i+1)*H/OH)-1, likewise columns. OH = OW = 1 is global average pooling.
    /// </summary>
    public abstract void AdaptiveAvgPool2d(Tensor x, Tensor y, int batch, int channels, int height, int width, int outHeight, int outWidth);

    /// <summary>dx (+)= the gradient of <see cref="AdaptiveAvgPool2d"/>.</summary>
    public abstract void AdaptiveAvgPool2dBackward(Tensor dy, Tensor dx, int batch, int channels, int height, int width, int outHeight, int outWidth, bool accumulate);

    // ------------------------------------------------------------------ normalisation (Normalization.cs)

    /// <summary>
    /// Batch normalisation over x seen as [N, C, S] (S = H*W), per channel c (<c>nn.BatchNorm2d</c>).
    /// Training: normalise with the batch mean and biased variance, save mean and 1/sqrt(var+eps) for backward, and update
    /// running = (1-momentum)*running + momentum*batch with the unbiased variance. Evaluation: use the running statistics
    /// (and still write them to the save buffers so backward works in evaluation mode too).
    /// </summary>
    public abstract void BatchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps);

    /// <summary>
    /// Gradients of <see cref="BatchNorm"/>: dgamma += sum(dy*xhat), dbeta += sum(dy); dx (+)= the full batch-statistics
    /// gradient when <paramref name="training"/>, dy*gamma*invstd otherwise.
    /// </summary>
    public abstract void BatchNormBackward(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx);

    // ------------------------------------------------------------------ channel copies (Elementwise.cs): Concat and its gradient

    /// <summary>
    /// For each of <paramref name="batch"/> samples, copies (or adds, when <paramref name="accumulate"/>) <paramref name="count"/>
    /// channels of <paramref name="spatial"/> elements from src (which has <paramref name="srcChannels"/> channels, starting at
    /// <paramref name="srcOffset"/>) into dst (which has <paramref name="dstChannels"/>, starting at <paramref name="dstOffset"/>).
    /// Concat writes each branch into its slice of the output; backward reads the slices back.
    /// </summary>
    public abstract void CopyChannels(Tensor src, int srcChannels, int srcOffset, Tensor dst, int dstChannels, int dstOffset,
        int count, int batch, int spatial, bool accumulate);
}
