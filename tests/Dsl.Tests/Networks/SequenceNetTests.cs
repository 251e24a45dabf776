using Dsl.Tests.Gradients;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Networks;

/// <summary>
/// A network with a symbolic dimension (<see cref="SequenceNet"/>, x [N,T,5]) and typed inputs (a mask and token ids
/// [N,T]): gradients against finite differences at several lengths, each position computed independently of the others
/// (what every layer of it promises), the symbol's agreement across inputs checked at Forward, and buffers that grow to
/// the largest length and are reused after.
/// </summary>
public sealed class SequenceNetTests
{
    private readonly ITestOutputHelper _output;

    public SequenceNetTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(4)]
    [InlineData(7)]
    public void Backward_matches_finite_differences_at_each_length(int length)
    {
        var net = new SequenceNet(Device.Cpu, seed: 5);
        // Run a longer sequence first, so the check also covers buffers reused below their capacity.
        net.Forward(Tensor.Zeros(Device.Cpu, 3, 9, 5), Mask(3, 9), Tokens(3, 9));
        var mask = Mask(3, length);
        var tokens = Tokens(3, length);
        var check = new NetworkGradientCheck { ConstantInputs = 2 };
        _output.WriteLine(check.Run(net, new[] { new[] { length, 5 } }, inputs => net.Forward(inputs[0], mask, tokens), batch: 3, seed: 17));
    }

    [Fact]
    public void Each_position_is_computed_as_a_sequence_of_length_one()
    {
        var rng = new Random(3);
        const int n = 2, t = 6;
        var net = new SequenceNet(Device.Cpu, seed: 8);
        float[] x = RandomInputs.Normal(rng, n * t * 5);
        float[] whole = net.Forward(Tensor.From(x, Device.Cpu, n, t, 5), Mask(n, t), Tokens(n, t)).ToArray();
        Assert.Equal(n * t * 3, whole.Length);
        for (int b = 0; b < n; b++)
        {
            for (int p = 0; p < t; p++)
            {
                float[] one = x.Skip((b * t + p) * 5).Take(5).ToArray();
                float[] y = net.Forward(Tensor.From(one, Device.Cpu, 1, 1, 5), Mask(1, 1), Tokens(1, 1)).ToArray();
                for (int k = 0; k < 3; k++)
                {
                    Assert.Equal(y[k], whole[(b * t + p) * 3 + k], 5);
                }
            }
        }
    }

    [Fact]
    public void Shapes_and_summary_print_the_symbol()
    {
        Assert.Equal(new[] { new[] { -1, 5 }, new[] { -1 }, new[] { -1 } }, SequenceNet.InputShapes);
        Assert.Equal(new[] { -1, 3 }, SequenceNet.OutputShape);
        Assert.Contains("[N,T,4]", SequenceNet.Summary);
        Assert.Contains("[N,T,3]", SequenceNet.Summary);
    }

    [Fact]
    public void A_mask_whose_length_differs_names_the_network_the_input_the_symbol_and_both_sizes()
    {
        var net = new SequenceNet(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 2, 4, 5), Mask(2, 6), Tokens(2, 4)));
        Assert.Equal("mask", e.ParamName);
        Assert.StartsWith("SequenceNet.Forward: input 'mask' has T = 6 but input 'x' has T = 4; every input that declares T shares its size.", e.Message);
    }

    [Fact]
    public void Tokens_with_another_batch_size_name_N()
    {
        var net = new SequenceNet(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 2, 4, 5), Mask(2, 4), Tokens(3, 4)));
        Assert.Equal("tokens", e.ParamName);
        Assert.StartsWith("SequenceNet.Forward: input 'tokens' has N = 3 but input 'x' has N = 2; every input that declares N shares its size.", e.Message);
    }

    [Fact]
    public void Float_token_ids_are_refused_with_the_expected_dtype()
    {
        var net = new SequenceNet(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 2, 4, 5), Mask(2, 4), Tensor.Zeros(Device.Cpu, 2, 4)));
        Assert.Equal("tokens", e.ParamName);
        Assert.StartsWith("SequenceNet.Forward expects input 'tokens' [N,T] (int64) but received [2,4] (float32).", e.Message);
    }

    [Fact]
    public void A_fixed_size_that_differs_is_refused_with_the_symbolic_shape()
    {
        var net = new SequenceNet(Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 2, 4, 6), Mask(2, 4), Tokens(2, 4)));
        Assert.Equal("x", e.ParamName);
        Assert.StartsWith("SequenceNet.Forward expects input 'x' [N,T,5] (float32) but received [2,4,6] (float32).", e.Message);
    }

    [Fact]
    public void A_symbolic_slot_grows_to_the_largest_size_and_keeps_it()
    {
        var slot = new SymbolicSlot(Device.Cpu);
        var a = slot.Rows(2, 7, 5);
        Assert.Equal(70, slot.Capacity);
        var b = slot.Rows(2, 4, 5);
        Assert.Equal(70, slot.Capacity);
        Assert.Equal(new[] { 2, 4, 5 }, b.Shape);
        Assert.Same(a, slot.Rows(2, 7, 5));
        Assert.Same(b, slot.Rows(2, 4, 5));
        slot.Rows(3, 8, 5);
        Assert.Equal(120, slot.Capacity);
    }

    [Fact]
    public void Training_steps_alternating_two_lengths_allocate_nothing_after_warm_up()
    {
        var rng = new Random(2);
        var net = new SequenceNet(Device.Cpu, seed: 1);
        var inputs = new[] { 5, 9 }.Select(t => (X: Tensor.From(RandomInputs.Normal(rng, 4 * t * 5), Device.Cpu, 4, t, 5), Mask: Mask(4, t), Tokens: Tokens(4, t),
            Grad: Tensor.From(RandomInputs.Normal(rng, 4 * t * 3), Device.Cpu, 4, t, 3))).ToArray();
        long allocated = 0;
        for (int step = 0; step < 60; step++)
        {
            var (x, mask, tokens, grad) = inputs[step % 2];
            long before = GC.GetAllocatedBytesForCurrentThread();
            net.Forward(x, mask, tokens);
            net.ZeroGrad();
            net.Backward(grad);
            if (step >= 50)
            {
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }
        // Exactly the ten measured steps' result handles (Forward returns a fresh one each time); nothing else.
        Assert.Equal(10 * StepAllocations.HandleBytes, allocated);
    }

    [Fact]
    public void Evaluation_forward_then_Backward_gives_the_training_gradients()
    {
        var rng = new Random(6);
        var x = Tensor.From(RandomInputs.Normal(rng, 2 * 5 * 5), Device.Cpu, 2, 5, 5);
        var d = Tensor.From(RandomInputs.Normal(rng, 2 * 5 * 3), Device.Cpu, 2, 5, 3);
        var trained = new SequenceNet(Device.Cpu, seed: 4);
        float[] y = trained.Forward(x, Mask(2, 5), Tokens(2, 5)).ToArray();
        trained.Backward(d);
        var evaluated = new SequenceNet(Device.Cpu, seed: 4);
        evaluated.Eval();
        Assert.Equal(y, evaluated.Forward(x, Mask(2, 5), Tokens(2, 5)).ToArray());
        evaluated.Backward(d);
        for (int i = 0; i < trained.Parameters.Count; i++)
        {
            Assert.Equal(trained.Parameters[i].Grad.ToArray(), evaluated.Parameters[i].Grad.ToArray());
        }
    }

    private static Tensor Mask(int n, int t) => Tensor.From(Enumerable.Range(0, n * t).Select(i => (float)(i % 3 == 0 ? 0 : 1)).ToArray(), Device.Cpu, n, t);

    private static Tensor Tokens(int n, int t) => Tensor.From(Enumerable.Range(0, n * t).Select(i => (long)(i % 11)).ToArray(), Device.Cpu, n, t);
}
