using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.SeqDsl;

/// <summary>
/// Embedding, <c>*</c>, <c>+</c> and <c>Concat(a, b, dim)</c> on symbolic values through generated networks: gradients
/// against finite differences at two lengths, the shapes the symbols give, the padding row and freezing.
/// </summary>
public sealed class ValueFunctionTests
{
    private readonly ITestOutputHelper _output;

    public ValueFunctionTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    public void Embedding_product_sum_and_concatenations_match_finite_differences(int length)
    {
        var net = new ValueFunctionNet(Device.Cpu, seed: 3);
        // A longer batch first: the check then runs in buffers reused below their capacity.
        net.Forward(Tensor.Zeros(Device.Cpu, 2, 8, 3), Tokens(2, 8, 11, seed: 1));
        var tokens = Tokens(2, length, 11, seed: length);
        var check = new NetworkGradientCheck { ConstantInputs = 1 };
        _output.WriteLine(check.Run(net, new[] { new[] { length, 3 } }, inputs => net.Forward(inputs[0], tokens), batch: 2, seed: 11));
    }

    [Fact]
    public void Concat_along_time_doubles_the_symbol()
    {
        Assert.Equal(new[] { -1, 2 }, ValueFunctionNet.OutputShape);
        Assert.Contains("[N,2*T,8]", ValueFunctionNet.Summary);
        var y = new ValueFunctionNet(Device.Cpu).Forward(Tensor.Zeros(Device.Cpu, 2, 5, 3), Tokens(2, 5, 11, seed: 2));
        Assert.Equal(new[] { 2, 10, 2 }, y.Shape);
    }

    [Fact]
    public void Concat_along_time_puts_the_first_value_first()
    {
        // Rows t < T of the joined value are the features, rows T.. their tanh: the output's two halves differ by exactly that.
        var net = new ValueFunctionNet(Device.Cpu, seed: 4);
        var x = Tensor.From(RandomInputs.Normal(new Random(1), 1 * 4 * 3), Device.Cpu, 1, 4, 3);
        var tokens = Tokens(1, 4, 11, seed: 3);
        float[] y = net.Forward(x, tokens).ToArray();
        var single = new ValueFunctionNet(Device.Cpu, seed: 4);
        float[] again = single.Forward(x, tokens).ToArray();
        Assert.Equal(y, again);
        Assert.NotEqual(y.Take(8), y.Skip(8));
    }

    [Fact]
    public void The_padding_row_starts_at_zero_and_gets_no_gradient_and_a_frozen_table_gets_none()
    {
        var net = new PaddedEmbeddingNet(Device.Cpu, seed: 2);
        var table = net.Parameters.Single(p => p.Name == "embedding1.weight");
        var frozen = net.Parameters.Single(p => p.Name == "pretrained.weight");
        Assert.True(table.RequiresGrad);
        Assert.False(frozen.RequiresGrad);
        Assert.Equal(new float[3], table.Value.ToArray().Take(3));
        Assert.Contains(table.Value.ToArray().Skip(3), v => v != 0f);

        var tokens = Tensor.From(new long[] { 0, 1, 2, 0, 3, 0 }, Device.Cpu, 2, 3);
        var y = net.Forward(tokens);
        net.Backward(Tensor.Full(Device.Cpu, 1f, y.Shape));
        float[] grad = table.Grad.ToArray();
        Assert.Equal(new float[3], grad.Take(3));
        Assert.Contains(grad.Skip(3), v => v != 0f);
        Assert.All(frozen.Grad.ToArray(), v => Assert.Equal(0f, v));

        float[] before = frozen.Value.ToArray();
        float[] trainedBefore = table.Value.ToArray();
        var sgd = new Sgd(net.Parameters, 0.5f);
        sgd.Step();
        Assert.Equal(before, frozen.Value.ToArray());
        Assert.NotEqual(trainedBefore, table.Value.ToArray());
        Assert.Equal(new float[3], table.Value.ToArray().Take(3));
    }

    [Fact]
    public void A_pretrained_table_loads_by_name_and_a_wrong_size_is_refused_naming_the_parameter()
    {
        var net = new PaddedEmbeddingNet(Device.Cpu);
        var frozen = net.Parameters.Single(p => p.Name == "pretrained.weight");
        float[] table = Enumerable.Range(0, 21).Select(i => i * 0.5f).ToArray();
        frozen.Load(table);
        Assert.Equal(table, frozen.Value.ToArray());
        Assert.Equal(table, net.StateDict()["pretrained.weight"].ToArray());
        var e = Assert.Throws<ArgumentException>(() => frozen.Load(new float[20]));
        Assert.Equal("pretrained.weight [7,3] holds 21 numbers, but 20 were given. (Parameter 'values')", e.Message);
    }

    [Fact]
    public void An_id_outside_the_table_is_refused_naming_it()
    {
        var net = new PaddedEmbeddingNet(Device.Cpu);
        var tokens = Tensor.From(new long[] { 0, 1, 7 }, Device.Cpu, 1, 3);
        var e = Assert.ThrowsAny<ArgumentException>(() => net.Forward(tokens));
        Assert.Contains("id 7 at position 2 is outside the 7 rows of the table", e.Message);
    }

    [Fact]
    public void A_float_tensor_for_the_tokens_is_refused_with_the_dtype()
    {
        var net = new PaddedEmbeddingNet(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 2, 3)));
        Assert.StartsWith("PaddedEmbeddingNet.Forward expects input 'tokens' [N,T] (int64)", e.Message);
    }

    internal static Tensor Tokens(int n, int t, int vocabulary, int seed)
    {
        var rng = new Random(seed);
        return Tensor.From(Enumerable.Range(0, n * t).Select(_ => (long)rng.Next(vocabulary)).ToArray(), Device.Cpu, n, t);
    }
}
