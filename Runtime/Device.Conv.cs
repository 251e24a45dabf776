namespace Dsl;

// Convolution, pooling, normalisation and channel copies: each public method validates its geometry and operands once
// (Geometry.Validate and the checks in Device.Checks.cs), returns when the batch is empty, and calls the backend's core.
public abstract partial class Device
{
    // ------------------------------------------------------------------ convolution (Conv.cs)

    /// <summary>
    /// y = conv2d(x, w) + b (cross-correlation, as PyTorch), shapes in <paramref name="g"/>; with <paramref name="relu"/>,
    /// y = max(conv2d(x, w) + b, 0), applied by the backend as each output tile is stored (no second pass over y). With
    /// <paramref name="residual"/> (y's shape, not y's memory), y = relu?((conv2d(x, w) + b) + residual): the convolution
    /// closing a residual block, the shortcut's sum and the ReLU after it, where the backend can add the shortcut as it
    /// stores the output; the same operations in the same order as <see cref="Conv2d"/> then <see cref="AddRelu"/>.
    /// </summary>
    public void Conv2d(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu = false, Tensor? residual = null)
    {
        const string op = nameof(Conv2d);
        g.Validate(op);
        FloatOperand(x, g.InputLength, op, "x", g.Batch, g.InChannels, g.Height, g.Width);
        FloatOperand(w, g.WeightLength, op, "weight", g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW);
        if (b is not null)
        {
            FloatOperand(b, g.OutChannels, op, "bias", g.OutChannels);
        }
        FloatOperand(y, g.OutputLength, op, "y", g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        if (residual is not null)
        {
            ResidualOperand(residual, y, g.OutputLength, op, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        }
        if (g.Batch == 0)
        {
            return;
        }
        if (residual is null)
        {
            Conv2dCore(x, w, b, y, g, relu);
            return;
        }
        Conv2dResidualCore(x, w, b, residual, y, g, relu);
    }

    /// <summary>
    /// <see cref="Conv2d"/> with a residual: unfused by default, the convolution into y, then y + residual (and the ReLU)
    /// in place, one more pass over y. Backends that add the residual in the convolution's store override it.
    /// </summary>
    protected virtual void Conv2dResidualCore(Tensor x, Tensor w, Tensor? b, Tensor residual, Tensor y, in Conv2dGeometry g, bool relu)
    {
        Conv2dCore(x, w, b, y, g, relu: false);
        AddResidual(y, residual, relu);
    }

    /// <summary>The unfused end of a fused sum: y + residual in place, then the ReLU when asked (one more pass over y).</summary>
    private void AddResidual(Tensor y, Tensor residual, bool relu)
    {
        if (relu)
        {
            AddReluCore(y, residual, y);
        }
        else
        {
            AddCore(y, residual, y);
        }
    }

    /// <summary>
    /// Gradients of <see cref="Conv2d"/>: dw += dL/dw and db += dL/db (parameter gradients accumulate, as in PyTorch);
    /// dx = dL/dx (or += when <paramref name="accumulateDx"/>), skipped when <paramref name="dx"/> is null.
    /// </summary>
    public void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv2dBackward);
        g.Validate(op);
        FloatOperand(x, g.InputLength, op, "x", g.Batch, g.InChannels, g.Height, g.Width);
        FloatOperand(w, g.WeightLength, op, "weight", g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW);
        FloatOperand(dy, g.OutputLength, op, "dy", g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        if (dx is not null)
        {
            FloatOperand(dx, g.InputLength, op, "dx", g.Batch, g.InChannels, g.Height, g.Width);
        }
        FloatOperand(dw, g.WeightLength, op, "dw", g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW);
        if (db is not null)
        {
            FloatOperand(db, g.OutChannels, op, "db", g.OutChannels);
        }
        if (g.Batch == 0)
        {
            return;
        }
        Conv2dBackwardCore(x, w, dy, dx, dw, db, g, accumulateDx);
    }

    protected abstract void Conv2dCore(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu);
    protected abstract void Conv2dBackwardCore(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx);

    // ------------------------------------------------------------------ pooling (Pool.cs)

    /// <summary>
    /// Max pooling; <paramref name="argmax"/> (int32, shaped like y) records the flat input index of each maximum (padding never
    /// wins). With <paramref name="relu"/> y is max(0, .) of the pooled value (the ReLU after the pool fused into it, the same
    /// numbers as the two steps; the argmax is the pool's, and the ReLU's backward masks with y). With
    /// <paramref name="recordArgmax"/> false (an evaluation forward, which no backward reads) the argmax is left as it was.
    /// </summary>
    public void MaxPool2d(Tensor x, Tensor y, Tensor argmax, in Pool2dGeometry g, bool relu = false, bool recordArgmax = true)
    {
        const string op = nameof(MaxPool2d);
        PoolOperands(g, x, y, op, "x", "y");
        Operand(argmax, op, "argmax", DType.Int32);
        Expect(argmax, g.OutputLength, op, "argmax", g.Batch, g.Channels, g.OutHeight, g.OutWidth);
        if (g.Batch == 0)
        {
            return;
        }
        if (relu || !recordArgmax)
        {
            MaxPool2dFusedCore(x, y, argmax, g, relu, recordArgmax);
            return;
        }
        MaxPool2dCore(x, y, argmax, g);
    }

    /// <summary>
    /// dx (+)= dy routed to the recorded maxima. With <paramref name="reluOutput"/>, the pool's output y over a ReLU's
    /// output (the ReLU before the pool, whose backward this call then does), dy passes only where y &gt; 0: y is the ReLU's
    /// output at the argmax, so these are the numbers of the pool's backward followed by the ReLU's, in one pass and
    /// without the ReLU's mask over the larger input.
    /// </summary>
    public void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, in Pool2dGeometry g, bool accumulate, Tensor? reluOutput = null)
    {
        const string op = nameof(MaxPool2dBackward);
        PoolOperands(g, dx, dy, op, "dx", "dy");
        Operand(argmax, op, "argmax", DType.Int32);
        Expect(argmax, g.OutputLength, op, "argmax", g.Batch, g.Channels, g.OutHeight, g.OutWidth);
        if (reluOutput is not null)
        {
            FloatOperand(reluOutput, g.OutputLength, op, nameof(reluOutput), g.Batch, g.Channels, g.OutHeight, g.OutWidth);
        }
        if (g.Batch == 0)
        {
            return;
        }
        MaxPool2dBackwardCore(dy, argmax, dx, g, accumulate, reluOutput);
    }

    /// <summary>Average pooling; with <paramref name="countIncludePad"/> (PyTorch's default) padding counts in the divisor.</summary>
    public void AvgPool2d(Tensor x, Tensor y, in Pool2dGeometry g, bool countIncludePad)
    {
        const string op = nameof(AvgPool2d);
        PoolOperands(g, x, y, op, "x", "y");
        if (g.Batch == 0)
        {
            return;
        }
        AvgPool2dCore(x, y, g, countIncludePad);
    }

    /// <summary>dx (+)= the gradient of <see cref="AvgPool2d"/>.</summary>
    public void AvgPool2dBackward(Tensor dy, Tensor dx, in Pool2dGeometry g, bool countIncludePad, bool accumulate)
    {
        const string op = nameof(AvgPool2dBackward);
        PoolOperands(g, dx, dy, op, "dx", "dy");
        if (g.Batch == 0)
        {
            return;
        }
        AvgPool2dBackwardCore(dy, dx, g, countIncludePad, accumulate);
    }

    /// <summary>
    /// Adaptive average pooling of x [N,C,H,W] to [N,C,OH,OW] (<c>nn.AdaptiveAvgPool2d</c>): output cell i covers
    /// rows floor(i*H/OH) .. ceil((i+1)*H/OH)-1, likewise columns (<see cref="PoolMath.AdaptiveStart"/>). OH = OW = 1 is global average pooling.
    /// </summary>
    public void AdaptiveAvgPool2d(Tensor x, Tensor y, int batch, int channels, int height, int width, int outHeight, int outWidth)
    {
        const string op = nameof(AdaptiveAvgPool2d);
        AdaptiveOperands(x, y, batch, channels, height, width, outHeight, outWidth, op, "x", "y");
        if (batch == 0)
        {
            return;
        }
        AdaptiveAvgPool2dCore(x, y, batch, channels, height, width, outHeight, outWidth);
    }

    /// <summary>dx (+)= the gradient of <see cref="AdaptiveAvgPool2d"/>.</summary>
    public void AdaptiveAvgPool2dBackward(Tensor dy, Tensor dx, int batch, int channels, int height, int width, int outHeight, int outWidth, bool accumulate)
    {
        const string op = nameof(AdaptiveAvgPool2dBackward);
        AdaptiveOperands(dx, dy, batch, channels, height, width, outHeight, outWidth, op, "dx", "dy");
        if (batch == 0)
        {
            return;
        }
        AdaptiveAvgPool2dBackwardCore(dy, dx, batch, channels, height, width, outHeight, outWidth, accumulate);
    }

    protected abstract void MaxPool2dCore(Tensor x, Tensor y, Tensor argmax, in Pool2dGeometry g);

    /// <summary>
    /// <see cref="MaxPool2d"/> with a fused ReLU or without the argmax. This default runs the plain pool and then the ReLU
    /// (the argmax is written either way); a backend overrides it with one pass.
    /// </summary>
    protected virtual void MaxPool2dFusedCore(Tensor x, Tensor y, Tensor argmax, in Pool2dGeometry g, bool relu, bool recordArgmax)
    {
        MaxPool2dCore(x, y, argmax, g);
        if (relu)
        {
            ActivationCore(ActivationKind.Relu, 0f, ActivationMath.DefaultSoftplusThreshold, y, y);
        }
    }
    protected abstract void MaxPool2dBackwardCore(Tensor dy, Tensor argmax, Tensor dx, in Pool2dGeometry g, bool accumulate, Tensor? reluOutput);
    protected abstract void AvgPool2dCore(Tensor x, Tensor y, in Pool2dGeometry g, bool countIncludePad);
    protected abstract void AvgPool2dBackwardCore(Tensor dy, Tensor dx, in Pool2dGeometry g, bool countIncludePad, bool accumulate);
    protected abstract void AdaptiveAvgPool2dCore(Tensor x, Tensor y, int batch, int channels, int height, int width, int outHeight, int outWidth);
    protected abstract void AdaptiveAvgPool2dBackwardCore(Tensor dy, Tensor dx, int batch, int channels, int height, int width, int outHeight, int outWidth, bool accumulate);

    private void PoolOperands(in Pool2dGeometry g, Tensor x, Tensor y, string op, string xName, string yName)
    {
        g.Validate(op);
        FloatOperand(x, g.InputLength, op, xName, g.Batch, g.Channels, g.Height, g.Width);
        FloatOperand(y, g.OutputLength, op, yName, g.Batch, g.Channels, g.OutHeight, g.OutWidth);
    }

    private void AdaptiveOperands(Tensor x, Tensor y, int batch, int channels, int height, int width, int outHeight, int outWidth,
        string op, string xName, string yName)
    {
        if (batch < 0 || channels < 1 || height < 1 || width < 1 || outHeight < 1 || outWidth < 1)
        {
            throw new ArgumentException($"{op}: the batch must not be negative and the other sizes must be positive, got [{batch},{channels},{height},{width}] -> {outHeight}x{outWidth}.");
        }
        FloatOperand(x, (long)batch * channels * height * width, op, xName, batch, channels, height, width);
        FloatOperand(y, (long)batch * channels * outHeight * outWidth, op, yName, batch, channels, outHeight, outWidth);
    }

    // ------------------------------------------------------------------ normalisation (Normalization.cs)

    /// <summary>
    /// Batch normalisation over x seen as [N, C, S] (S = H*W), per channel c (<c>nn.BatchNorm2d</c>).
    /// Training: normalise with the batch mean and biased variance, save mean and 1/sqrt(var+eps) for backward, and update
    /// running = (1-momentum)*running + momentum*batch with the unbiased variance. Evaluation: use the running statistics
    /// (and still write them to the save buffers so backward works in evaluation mode too). With <paramref name="relu"/>, y is
    /// max(0, batch norm) in the same pass (the generator's fusion of <c>BatchNorm2d() | Relu</c>). With
    /// <paramref name="residual"/> (y's shape, not y's memory), y = relu?(batch norm + residual): the batch norm closing a
    /// residual block, the shortcut's sum and the ReLU after it, the same operations in the same order as
    /// <see cref="BatchNorm"/> then <see cref="AddRelu"/> (or <see cref="Add"/>).
    /// </summary>
    public void BatchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps, bool relu = false,
        Tensor? residual = null)
    {
        const string op = nameof(BatchNorm);
        BatchNormSizes(x, y, batch, channels, spatial, op, "y");
        FloatOperand(gamma, channels, op, nameof(gamma), channels);
        FloatOperand(beta, channels, op, nameof(beta), channels);
        FloatOperand(runningMean, channels, op, nameof(runningMean), channels);
        FloatOperand(runningVar, channels, op, nameof(runningVar), channels);
        FloatOperand(saveMean, channels, op, nameof(saveMean), channels);
        FloatOperand(saveInvStd, channels, op, nameof(saveInvStd), channels);
        if (training && (long)batch * spatial < 2)
        {
            throw new ArgumentException($"{op}: training needs more than one value per channel, got [{batch},{channels},{spatial}].");
        }
        if (residual is not null)
        {
            ResidualOperand(residual, y, (long)batch * channels * spatial, op, batch, channels, spatial);
            BatchNormResidualCore(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, residual, y, batch, channels, spatial, training, momentum, eps, relu);
        }
        else if (relu)
        {
            BatchNormReluCore(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps);
        }
        else
        {
            BatchNormCore(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps);
        }
    }

    /// <summary>
    /// Gradients of <see cref="BatchNorm"/>: dgamma += sum(dy*xhat), dbeta += sum(dy); dx (+)= the full batch-statistics
    /// gradient when <paramref name="training"/>, dy*gamma*invstd otherwise. With <paramref name="reluOutput"/> (the output of
    /// <see cref="BatchNorm"/> with <c>relu: true</c>), dy is the ReLU's gradient and is masked where that output is not positive,
    /// in the same passes: the backward of batch norm + ReLU without the pre-ReLU tensor.
    /// </summary>
    public void BatchNormBackward(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx, Tensor? reluOutput = null)
    {
        const string op = nameof(BatchNormBackward);
        BatchNormSizes(x, dy, batch, channels, spatial, op, "dy");
        FloatOperand(dx, (long)batch * channels * spatial, op, "dx", batch, channels, spatial);
        FloatOperand(gamma, channels, op, nameof(gamma), channels);
        FloatOperand(saveMean, channels, op, nameof(saveMean), channels);
        FloatOperand(saveInvStd, channels, op, nameof(saveInvStd), channels);
        FloatOperand(dgamma, channels, op, nameof(dgamma), channels);
        FloatOperand(dbeta, channels, op, nameof(dbeta), channels);
        if (reluOutput is not null)
        {
            FloatOperand(reluOutput, (long)batch * channels * spatial, op, nameof(reluOutput), batch, channels, spatial);
        }
        if (batch == 0)
        {
            return;
        }
        if (reluOutput is not null)
        {
            BatchNormReluBackwardCore(x, gamma, saveMean, saveInvStd, dy, reluOutput, dx, dgamma, dbeta, batch, channels, spatial, training, accumulateDx);
        }
        else
        {
            BatchNormBackwardCore(x, gamma, saveMean, saveInvStd, dy, dx, dgamma, dbeta, batch, channels, spatial, training, accumulateDx);
        }
    }

    protected abstract void BatchNormCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps);

    protected abstract void BatchNormBackwardCore(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx);

    /// <summary>
    /// <see cref="BatchNorm"/> with a residual: unfused by default, the batch norm into y, then y + residual (and the ReLU)
    /// in place, one more pass over y. Backends that add the residual in the normalising pass override it.
    /// </summary>
    protected virtual void BatchNormResidualCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor residual, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps, bool relu)
    {
        BatchNormCore(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps);
        AddResidual(y, residual, relu);
    }

    /// <summary><see cref="BatchNormCore"/> followed by max(0, .) in the same pass.</summary>
    protected abstract void BatchNormReluCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps);

    /// <summary><see cref="BatchNormBackwardCore"/> with dy masked where <paramref name="y"/> (the fused output) is not positive.</summary>
    protected abstract void BatchNormReluBackwardCore(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy, Tensor y,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx);

    private void BatchNormSizes(Tensor x, Tensor y, int batch, int channels, int spatial, string op, string yName)
    {
        if (batch < 0 || channels < 1 || spatial < 1)
        {
            throw new ArgumentException($"{op}: the batch must not be negative and the other sizes must be positive, got [{batch},{channels},{spatial}].");
        }
        FloatOperand(x, (long)batch * channels * spatial, op, "x", batch, channels, spatial);
        FloatOperand(y, (long)batch * channels * spatial, op, yName, batch, channels, spatial);
    }

    /// <summary>
    /// Layer normalisation (Ba, Kiros and Hinton, 2016; PyTorch's <c>nn.LayerNorm(features)</c>) of x seen as
    /// [<paramref name="rows"/>, <paramref name="features"/>]: each row is normalised with its own mean and biased
    /// variance, y = (x - mean) / sqrt(var + eps) * gamma + beta, where <paramref name="gamma"/> and <paramref name="beta"/>
    /// [features] are the elementwise affine parameters (null: 1 and 0, <c>elementwise_affine=False</c>). Saves the mean
    /// and 1/sqrt(var + eps) of every row [rows] for backward.
    /// </summary>
    public void LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, Tensor saveMean, Tensor saveInvStd, Tensor y, int rows, int features, float eps)
    {
        const string op = nameof(LayerNorm);
        LayerNormSizes(x, y, rows, features, op, "y");
        if (gamma is not null)
        {
            FloatOperand(gamma, features, op, nameof(gamma), features);
        }
        if (beta is not null)
        {
            FloatOperand(beta, features, op, nameof(beta), features);
        }
        FloatOperand(saveMean, rows, op, nameof(saveMean), rows);
        FloatOperand(saveInvStd, rows, op, nameof(saveInvStd), rows);
        if (!(eps >= 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(eps), $"{op}: eps must not be negative, got {eps}.");
        }
        if (rows == 0)
        {
            return;
        }
        LayerNormCore(x, gamma, beta, saveMean, saveInvStd, y, rows, features, eps);
    }

    /// <summary>
    /// Gradients of <see cref="LayerNorm"/>: dx = invstd * (g - mean(g) - xhat * mean(g * xhat)) per row with g = dy * gamma
    /// (or += when <paramref name="accumulateDx"/>; skipped when <paramref name="dx"/> is null); dgamma += sum over rows of
    /// dy * xhat and dbeta += sum over rows of dy (parameter gradients accumulate; each is skipped when null).
    /// </summary>
    public void LayerNormBackward(Tensor x, Tensor? gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor? dx, Tensor? dgamma, Tensor? dbeta, int rows, int features, bool accumulateDx)
    {
        const string op = nameof(LayerNormBackward);
        LayerNormSizes(x, dy, rows, features, op, "dy");
        if (dx is not null)
        {
            FloatOperand(dx, (long)rows * features, op, "dx", rows, features);
        }
        if (gamma is not null)
        {
            FloatOperand(gamma, features, op, nameof(gamma), features);
        }
        FloatOperand(saveMean, rows, op, nameof(saveMean), rows);
        FloatOperand(saveInvStd, rows, op, nameof(saveInvStd), rows);
        if (dgamma is not null)
        {
            FloatOperand(dgamma, features, op, nameof(dgamma), features);
        }
        if (dbeta is not null)
        {
            FloatOperand(dbeta, features, op, nameof(dbeta), features);
        }
        if (rows == 0)
        {
            return;
        }
        LayerNormBackwardCore(x, gamma, saveMean, saveInvStd, dy, dx, dgamma, dbeta, rows, features, accumulateDx);
    }

    protected abstract void LayerNormCore(Tensor x, Tensor? gamma, Tensor? beta, Tensor saveMean, Tensor saveInvStd, Tensor y, int rows, int features, float eps);

    protected abstract void LayerNormBackwardCore(Tensor x, Tensor? gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor? dx, Tensor? dgamma, Tensor? dbeta, int rows, int features, bool accumulateDx);

    private void LayerNormSizes(Tensor x, Tensor y, int rows, int features, string op, string yName)
    {
        if (rows < 0 || features < 1)
        {
            throw new ArgumentException($"{op}: rows must not be negative and features must be positive, got [{rows},{features}].");
        }
        FloatOperand(x, (long)rows * features, op, "x", rows, features);
        FloatOperand(y, (long)rows * features, op, yName, rows, features);
    }

    // ------------------------------------------------------------------ channel copies (Elementwise.cs): Concat and its gradient

    /// <summary>
    /// For each of <paramref name="batch"/> samples, copies (or adds, when <paramref name="accumulate"/>) <paramref name="count"/>
    /// channels of <paramref name="spatial"/> elements from src (which has <paramref name="srcChannels"/> channels, starting at
    /// <paramref name="srcOffset"/>) into dst (which has <paramref name="dstChannels"/>, starting at <paramref name="dstOffset"/>).
    /// Concat writes each branch into its slice of the output; backward reads the slices back.
    /// </summary>
    public void CopyChannels(Tensor src, int srcChannels, int srcOffset, Tensor dst, int dstChannels, int dstOffset,
        int count, int batch, int spatial, bool accumulate)
    {
        const string op = nameof(CopyChannels);
        Operand(src, op, "src", DType.Float32);
        Operand(dst, op, "dst", DType.Float32);
        if (batch < 0 || spatial < 0 || count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"{op}: batch {batch}, spatial {spatial} and count {count} must not be negative.");
        }
        RequireLength(src, (long)batch * srcChannels * spatial, op, "src");
        RequireLength(dst, (long)batch * dstChannels * spatial, op, "dst");
        if (srcOffset < 0 || dstOffset < 0 || srcOffset + count > srcChannels || dstOffset + count > dstChannels)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"{op}: channels {srcOffset}+{count} of {srcChannels} -> {dstOffset}+{count} of {dstChannels} do not fit.");
        }
        if ((long)batch * count * spatial == 0)
        {
            return;
        }
        CopyChannelsCore(src, srcChannels, srcOffset, dst, dstChannels, dstOffset, count, batch, spatial, accumulate);
    }

    protected abstract void CopyChannelsCore(Tensor src, int srcChannels, int srcOffset, Tensor dst, int dstChannels, int dstOffset,
        int count, int batch, int spatial, bool accumulate);
}
