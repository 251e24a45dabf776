using static Dsl.Layers;

namespace Dsl.Tests.OnnxExport;

/// <summary>
/// The ONNX mappings the other test networks leave out: adaptive pooling that divides (an AveragePool), that overlaps on
/// one axis only and on both with a rectangular output, Linear on a three-dimensional sample with and without bias
/// (MatMul, not Gemm), LayerNorm over two dimensions without affine parameters, and Softplus where beta x passes the
/// threshold (its linear branch) beside Gelu.
/// </summary>
[Network]
public partial class OnnxOpsNet
{
    static Net Define() =>
        Input(2, 6, 7)
        | AdaptiveAvgPool2d(3, 7)
        | AdaptiveAvgPool2d(2, 3)
        | Conv2d(3, kernel: 1)
        | LayerNorm(2, 3, elementwiseAffine: false)
        | Linear(4) | Softplus(beta: 3.0, threshold: 1.5)
        | Linear(5, bias: false) | Gelu
        | Flatten
        | Linear(3) | Softmax;
}

/// <summary>
/// Adaptive pooling whose sizes divide (4x6 to 2x3 and to 1x3: AveragePools) beside a 1x1 one (GlobalAveragePool), summed;
/// a LayerNorm whose normalised shape starts with a size of 1 ([1, 3]: its weight's rank, not the fewest axes, sets the axis).
/// </summary>
[Network]
public partial class OnnxPoolNet
{
    static Net Define()
    {
        var x = Input(2, 4, 6);
        var a = x | AdaptiveAvgPool2d(2, 3) | Flatten;
        var b = x | AdaptiveAvgPool2d(1, 3) | LayerNorm(1, 3) | Flatten | Linear(12);
        var c = x | AdaptiveAvgPool2d(1) | Flatten | Linear(12);
        return a + b + c;
    }
}
