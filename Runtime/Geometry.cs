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
}

/// <summary>
/// A 2-D pooling window over x [N, C, H, W] (PyTorch's <c>MaxPool2d</c>/<c>AvgPool2d</c>, ceil_mode off):
/// OH = floor((H + 2*PadH - KernelH) / StrideH) + 1 (likewise OW).
/// </summary>
public readonly record struct Pool2dGeometry(
    int Batch, int Channels, int Height, int Width,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH = 0, int PadW = 0)
{
    public int OutHeight => (Height + 2 * PadH - KernelH) / StrideH + 1;
    public int OutWidth => (Width + 2 * PadW - KernelW) / StrideW + 1;
    public long InputLength => (long)Batch * Channels * Height * Width;
    public long OutputLength => (long)Batch * Channels * OutHeight * OutWidth;
}
