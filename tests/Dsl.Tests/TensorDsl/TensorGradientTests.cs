using Dsl.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.TensorDsl;

/// <summary>
/// The tensor operations on values through generated networks, against central finite differences of their own forward
/// (<see cref="NetworkGradientCheck"/>: parameters and inputs), at two lengths where a symbol is involved.
/// </summary>
public sealed class TensorGradientTests
{
    private readonly ITestOutputHelper _output;

    public TensorGradientTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void Broadcasting_arithmetic_with_numbers_matches_finite_differences(int length)
    {
        var net = new BroadcastNet(Device.Cpu, seed: 3);
        var check = new NetworkGradientCheck();
        _output.WriteLine(check.Run(net, new[] { new[] { length, 4 }, new[] { 4 }, new[] { length, 1 } },
            inputs => net.Forward(inputs[0], inputs[1], inputs[2]), batch: 2, seed: 11));
    }

    [Fact]
    public void MatMul_in_every_matmul_case_matches_finite_differences()
    {
        var net = new MatMulNet(Device.Cpu, seed: 4);
        _output.WriteLine(new NetworkGradientCheck().Run(net, MatMulNet.InputShape, batch: 3, seed: 12));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    public void Heads_permute_softmax_over_a_dimension_masked_fill_and_slices_match_finite_differences(int length)
    {
        var net = new HeadsNet(Device.Cpu, seed: 5);
        var keep = Keep(2, length);
        var check = new NetworkGradientCheck { ConstantInputs = 1 };
        _output.WriteLine(check.Run(net, new[] { new[] { length, 8 } }, inputs => net.Forward(inputs[0], keep), batch: 2, seed: 13));
    }

    /// <summary>A 0/1 mask [n, t] keeping the first t - i positions of row i (at least one).</summary>
    internal static Tensor Keep(int n, int t)
    {
        var data = new float[n * t];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < System.Math.Max(1, t - i); j++)
            {
                data[i * t + j] = 1f;
            }
        }
        return Tensor.From(data, Device.Cpu, n, t);
    }
}
