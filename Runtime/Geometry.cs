namespace Dsl;

/// <summary>
/// Everything a 2-D convolution kernel needs to know, PyTorch's <c>nn.Conv2d</c> arithmetic:
/// x [N, C, H, W], weight [OutC, C/Groups, KH, KW], y [N, OutC, OH, OW] with
/// OH = floor((H + PadTop + PadBottom - DilationH*(KH-1) - 1) / StrideH) + 1 (likewise OW).
/// Padding may be asymmetric because <c>padding: "same"</c> with an even effective kernel puts the extra row at the bottom/right, as PyTorch does.
/// </summary>
public readonly record struct Conv2dGeometry(
    int Batch, int InChannels, int Height, int Width,
    int OutChannels, int KernelH, int KernelW,
    int StrideH = 1, int StrideW = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationH = 1, int DilationW = 1, int Groups = 1)
{
    public int OutHeight => (Height + PadTop + PadBottom - DilationH * (KernelH - 1) - 1) / StrideH + 1;
    public int OutWidth => (Width + PadLeft + PadRight - DilationW * (KernelW - 1) - 1) / StrideW + 1;
    public long InputLength => (long)Batch * InChannels * Height * Width;
    public long OutputLength => (long)Batch * OutChannels * OutHeight * OutWidth;
    public long WeightLength => (long)OutChannels * (InChannels / Groups) * KernelH * KernelW;

    /// <summary>
    /// The input gradient of a stride-1 convolution as a convolution: dy (OutChannels x OutHeight x OutWidth) convolved with
    /// the kernel flipped and transposed (channels swapped), padded by (K - 1) * dilation - pad on each side, gives dx:
    /// dx[n, c, h, w] = sum over o, kh, kw of dy[n, o, h + top - kh * dh, w + left - kw * dw] * w[o, c, kh, kw]. Its output is
    /// this geometry's input (Height x Width). A pad wider than the dilated kernel makes the returned pad negative: dx
    /// then crops dy's border rather than padding it (only the CPU kernels read such a geometry; it is never validated).
    /// </summary>
    internal Conv2dGeometry StrideOneInputGradient()
    {
        if (StrideH != 1 || StrideW != 1 || Groups != 1)
        {
            throw new InvalidOperationException($"{this}: only an ungrouped stride-1 convolution's input gradient is a convolution of dy.");
        }
        int reachH = (KernelH - 1) * DilationH, reachW = (KernelW - 1) * DilationW;
        return new(Batch, OutChannels, OutHeight, OutWidth, InChannels, KernelH, KernelW, 1, 1,
            reachH - PadTop, reachW - PadLeft, reachH - PadBottom, reachW - PadRight, DilationH, DilationW);
    }

    /// <summary>
    /// Throws with a message naming <paramref name="op"/> and the first rule this geometry breaks (PyTorch's: a batch may be
    /// empty, every other size is positive, groups divide both channel counts, the dilated kernel fits the padded input).
    /// </summary>
    public void Validate(string op)
    {
        if (Batch < 0 || InChannels < 1 || Height < 1 || Width < 1 || OutChannels < 1 || KernelH < 1 || KernelW < 1)
        {
            throw new ArgumentException($"{op}: the batch must not be negative and the other sizes must be positive, got {this}.");
        }
        if (StrideH < 1 || StrideW < 1 || DilationH < 1 || DilationW < 1)
        {
            throw new ArgumentException($"{op}: stride and dilation must be at least 1, got {this}.");
        }
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
        {
            throw new ArgumentException($"{op}: padding must not be negative, got {this}.");
        }
        if (Groups < 1 || InChannels % Groups != 0 || OutChannels % Groups != 0)
        {
            throw new ArgumentException($"{op}: groups={Groups} must divide in_channels={InChannels} and out_channels={OutChannels}.");
        }
        if ((long)Height + PadTop + PadBottom < (long)DilationH * (KernelH - 1) + 1
            || (long)Width + PadLeft + PadRight < (long)DilationW * (KernelW - 1) + 1)
        {
            throw new ArgumentException(
                $"{op}: the padded input {Height + PadTop + PadBottom}x{Width + PadLeft + PadRight} is smaller than the dilated kernel "
                + $"{DilationH * (KernelH - 1) + 1}x{DilationW * (KernelW - 1) + 1}.");
        }
        if ((long)Batch * OutChannels * OutHeight * OutWidth > int.MaxValue || (long)Batch * InChannels * Height * Width > int.MaxValue)
        {
            throw new ArgumentException($"{op}: {this} has more than 2^31 elements in one tensor.");
        }
    }
}

/// <summary>
/// A 2-D pooling window over x [N, C, H, W] (PyTorch's <c>MaxPool2d</c>/<c>AvgPool2d</c>):
/// OH = floor((H + 2*PadH - KernelH) / StrideH) + 1 (likewise OW), or with <see cref="CeilMode"/> PyTorch's
/// <c>ceil_mode</c> (<see cref="PoolMath.OutSize"/>): windows may then reach past the padded input and see what lies inside.
/// </summary>
public readonly record struct Pool2dGeometry(
    int Batch, int Channels, int Height, int Width,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH = 0, int PadW = 0, bool CeilMode = false)
{
    public int OutHeight => PoolMath.OutSize(Height, PadH, KernelH, StrideH, CeilMode);
    public int OutWidth => PoolMath.OutSize(Width, PadW, KernelW, StrideW, CeilMode);
    public long InputLength => (long)Batch * Channels * Height * Width;
    public long OutputLength => (long)Batch * Channels * OutHeight * OutWidth;

    /// <summary>
    /// A 2x2 stride-2 unpadded window whose every window lies whole inside the input: the backends' unrolled 2x2 paths read
    /// two full rows and columns per output. With <see cref="CeilMode"/> and an odd size the last window is cut by the
    /// edge, so it is not one of these.
    /// </summary>
    public bool IsWholeTwoByTwo =>
        this is { KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0 }
        && 2 * OutHeight <= Height && 2 * OutWidth <= Width;

    /// <summary>
    /// Throws with a message naming <paramref name="op"/> and the first rule this geometry breaks (PyTorch's: a batch may be
    /// empty, other sizes, kernel and stride are positive, padding is at most half the kernel, the window fits the padded input).
    /// </summary>
    public void Validate(string op)
    {
        if (Batch < 0 || Channels < 1 || Height < 1 || Width < 1 || KernelH < 1 || KernelW < 1 || StrideH < 1 || StrideW < 1)
        {
            throw new ArgumentException($"{op}: the batch must not be negative and sizes, kernel and stride must be positive, got {this}.");
        }
        if (PadH < 0 || PadW < 0 || PadH > KernelH / 2 || PadW > KernelW / 2)
        {
            throw new ArgumentException($"{op}: padding ({PadH},{PadW}) must be between 0 and half the kernel ({KernelH},{KernelW}), as in PyTorch.");
        }
        if ((long)Height + 2 * PadH < KernelH || (long)Width + 2 * PadW < KernelW)
        {
            throw new ArgumentException($"{op}: the padded input {Height + 2 * PadH}x{Width + 2 * PadW} is smaller than the kernel {KernelH}x{KernelW}.");
        }
        if (InputLength > int.MaxValue)
        {
            throw new ArgumentException($"{op}: {this} has more than 2^31 elements in one tensor.");
        }
    }
}
