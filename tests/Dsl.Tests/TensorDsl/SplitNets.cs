using static Dsl.Layers;

namespace Dsl.Tests.TensorDsl;

/// <summary>
/// <c>Chunk</c> on the last dimension with a symbolic length, in the value-function form: [T,6] -> 3 x [T,2] (part 1 never
/// selected, so its slice of the gradient is zero; part 2 selected twice, so its gradient accumulates), then the layer form
/// of <c>Split</c> on the last dimension: [T,4] -> 2 x [T,2].
/// </summary>
[Network]
public partial class ChunkLastNet
{
    static Net Define()
    {
        var x = Input("x", "T", 4);
        var parts = Chunk(x | Linear(6), 3, dim: -1);
        var q = parts | Select(0);
        var v = parts | Select(2);
        var halves = (v | Linear(4)) | Split(2, dim: 2);
        var product = q * (v | Tanh) + (halves | Select(1));
        return Concat(product, parts | Select(2), dim: -1) | Linear(3);
    }
}

/// <summary>
/// <c>Split</c> and <c>Chunk</c> on middle dimensions of fixed shapes: [2,6,2] split by 2 along dim 2 -> 3 x [2,2,2] (the
/// last part unselected), and the layer form of <c>Chunk</c> on dim -2 of [4,3] -> 2 x [2,3].
/// </summary>
[Network]
public partial class SplitMiddleNet
{
    static Net Define()
    {
        var x = Input("x", 5);
        var v = View(x | Linear(24), 2, 6, 2);
        var parts = Split(v, 2, dim: 2);
        var a = parts | Select(0);
        var b = parts | Select(1);
        var rows = View(x | Linear(12) | Tanh, 4, 3) | Chunk(2, dim: -2);
        var joined = Concat(View(a * b, 8), View(a, 8), dim: 1);
        return Concat(joined, View((rows | Select(1)) - (rows | Select(0)), 6), dim: 1) | Linear(3);
    }
}
