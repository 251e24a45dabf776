using static Dsl.Layers;

namespace Dsl.Tests.TensorDsl;

/// <summary>
/// Element-wise + - * / with PyTorch's broadcasting over the per-sample dimensions and with numbers on either side, on a
/// symbolic length: [T,4] - [4], [T,4] / [T,1], [T,4] * [4], [T,4] + [4], 1 - m, m * 0.5, 2 / (...), x / 4.
/// </summary>
[Network]
public partial class BroadcastNet
{
    static Net Define()
    {
        var x = Input("x", "T", 4);
        var y = Input("y", 4);
        var z = Input("z", "T", 1);
        var a = x | Linear(4);
        var b = y | Linear(4) | Tanh;
        var gate = (z | Sigmoid) + 0.5;
        var difference = a - b;
        var quotient = difference / gate;
        var product = quotient * b;
        var inverted = 1.0 - product;
        var scaled = inverted * 0.5;
        var reciprocal = 2.0 / (scaled * scaled + 1.0);
        var sum = (reciprocal + b) / 4.0;
        return Concat(sum, a - a * 0.25, dim: -1) | Linear(3);
    }
}

/// <summary>
/// MatMul in every torch.matmul case on fixed shapes: vector x vector ([4] x [4] -> [1]), matrix x vector, vector x
/// matrix, matrix x matrix, and batched products whose leading dimensions broadcast ([2,1,3,4] x [5,4,2] -> [2,5,3,2]).
/// </summary>
[Network]
public partial class MatMulNet
{
    static Net Define()
    {
        var x = Input("x", 12);
        var u = x | Linear(4) | Tanh;
        var m = View(x | Linear(12), 3, -1);
        var w = x | Linear(8);
        var dot = MatMul(u, u | Linear(4));
        var mv = MatMul(m, u);
        var vm = MatMul(u, Transpose(m, 1, 2));
        var mm = MatMul(m, View(w, 4, 2));
        var left = View(x | Linear(24), 2, 1, 3, 4);
        var right = View(x | Linear(40), 5, 4, 2);
        var batched = MatMul(left, right);
        var joined = Concat(Concat(dot, mv, dim: 1), vm, dim: 1);
        return Concat(joined, Concat(View(mm, 6), View(batched, 60), dim: 1), dim: 1) | Linear(3);
    }
}

/// <summary>
/// Scores of queries against keys on symbolic lengths, softmax over the keys and over the queries, masked keys, views to
/// heads and back, a permutation, squeeze/unsqueeze and slices: [T,8] -> [T,2,4] -> [2,T,4] -> [2,T,T] ...
/// </summary>
[Network]
public partial class HeadsNet
{
    static Net Define()
    {
        var x = Input("x", "T", 8);
        var mask = Mask("keep", "T");
        var q = View(x | Linear(8), "T", 2, -1);
        var k = View(x | Linear(8), "T", 2, 4);
        var heads = Permute(q, 0, 2, 1, 3);
        var keys = Permute(k, 0, -2, 1, -1);
        var scores = MatMul(heads, Transpose(keys, -2, -1)) / 2.0;
        var masked = MaskedFill(scores, 1.0 - mask, double.NegativeInfinity);
        var weights = SoftmaxDim(masked, dim: -1);
        var across = SoftmaxDim(scores, dim: 2);
        var context = MatMul(weights + across, heads);
        var back = Reshape(Permute(context, 0, 2, 1, 3), "T", 8);
        var first = Slice(back, -1, 0, 3);
        var wide = Unsqueeze(first, 2);
        var narrow = Squeeze(wide | Linear(1), -1);
        return Concat(narrow, Slice(back, 2, 5, 8), dim: -1) | Linear(2);
    }
}

/// <summary>
/// PyTorch's numbers through the generated code (Fixtures/tensor_dsl.json): MatMul with broadcast batch dimensions
/// ([2,1,3,4] x [5,4,2] -> [2,5,3,2]), a vector times a batch of matrices ([4] x [5,4,2] -> [5,2]), a matrix times a
/// vector, and softmax over dimension 2 (not the last) of the product divided by 2, all flattened into [73].
/// </summary>
[Network]
public partial class TensorFixtureNet
{
    static Net Define()
    {
        var a = Input("a", 2, 1, 3, 4);
        var b = Input("b", 5, 4, 2);
        var v = Input("v", 4);
        var m = Input("m", 3, 4);
        var s = SoftmaxDim(MatMul(a, b) / 2.0, dim: 2);
        var joined = Concat(View(s, 60), View(MatMul(v, b), 10), dim: -1);
        return Concat(joined, MatMul(m, v), dim: -1);
    }
}
