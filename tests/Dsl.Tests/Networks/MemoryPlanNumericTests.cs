using Dsl.Tests.Gradients;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// Sharing memory changes no result: each network trains side by side with its twin built inside
/// <see cref="MemoryPlanning.Unshared"/> (every value and gradient in a slot of its own), and outputs, parameter
/// gradients, input gradients and updated weights must be equal bit for bit, through training steps with momentum, an
/// evaluation forward (the evaluation plan), a Backward after it (which runs the forward again), a refused second Backward
/// without a Forward, and a batch size that changes.
/// </summary>
public sealed class MemoryPlanNumericTests
{
    public static TheoryData<string> Networks() => new() { "CombinatorNet", "SharingNet", "PoolingNet", "ChunkNet", "DropoutNet", "MnistNet", "ResNet20" };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Shared_memory_gives_bit_identical_results_to_one_buffer_per_value(string network)
    {
        var shared = Create(network);
        Module unshared;
        using (MemoryPlanning.Unshared())
        {
            unshared = Create(network);
        }
        var sample = (int[])shared.GetType().GetProperty("InputShape")!.GetValue(null)!;
        var rng = new Random(network.Length);
        var sides = new[] { Side.Of(shared), Side.Of(unshared) };
        foreach (int batch in new[] { 3, 3, 2, 3 })
        {
            var x = RandomInputs.Normal(rng, batch * sample.Aggregate(1, (a, b) => a * b));
            var outputs = sides.Select(s => s.Net.Forward(Tensor.From(x, Device.Cpu, new[] { batch }.Concat(sample).ToArray()))).ToArray();
            Same(outputs[0].ToArray(), outputs[1].ToArray(), $"{network} training output at batch {batch}");
            var dy = RandomInputs.Normal(rng, outputs[0].ToArray().Length);
            foreach (var s in sides)
            {
                s.Net.ZeroGrad();
                s.Net.Backward(Tensor.From(dy, Device.Cpu, outputs[0].Dims.ToArray()));
            }
            Compare(sides, $"{network} gradients at batch {batch}");
            foreach (var s in sides)
            {
                s.Optimizer?.Step();
            }
            Compare(sides, $"{network} weights after a step at batch {batch}");
        }

        // Evaluation: the evaluation plan forward, then a Backward (forward replayed in the training plan), then another.
        var xe = RandomInputs.Normal(rng, 2 * sample.Aggregate(1, (a, b) => a * b));
        var eval = sides.Select(s =>
        {
            s.Net.Eval();
            s.Net.ComputeInputGradient = false; // else the forward keeps its values for the Backward it announces
            return s.Net.Forward(Tensor.From(xe, Device.Cpu, new[] { 2 }.Concat(sample).ToArray())).ToArray();
        }).ToArray();
        Same(eval[0], eval[1], $"{network} evaluation output");
        var dye = RandomInputs.Normal(rng, eval[0].Length);
        var outputShape = new[] { 2 }.Concat((int[])shared.GetType().GetProperty("OutputShape")!.GetValue(null)!).ToArray();
        foreach (var s in sides)
        {
            s.Net.ZeroGrad();
            s.Net.Backward(Tensor.From(dye, Device.Cpu, outputShape));
        }
        Compare(sides, $"{network} gradients after an evaluation forward");
        foreach (var s in sides)
        {
            // One Backward per Forward, as PyTorch: a second would double the gradients, so it is refused on both layouts.
            Assert.Throws<InvalidOperationException>(() => s.Net.Backward(Tensor.From(dye, Device.Cpu, outputShape)));
        }
        Compare(sides, $"{network} gradients after a refused second backward");
    }

    [Fact]
    public void The_input_gradient_survives_the_next_forward_as_before_planning()
    {
        var rng = new Random(3);
        var net = new CombinatorNet(Device.Cpu, seed: 1) { ComputeInputGradient = true };
        var shape = new[] { 2 }.Concat(CombinatorNet.InputShape).ToArray();
        var y = net.Forward(Tensor.From(RandomInputs.Normal(rng, 2 * 72), Device.Cpu, shape));
        net.Backward(Tensor.From(RandomInputs.Normal(rng, y.ToArray().Length), Device.Cpu, y.Dims.ToArray()));
        var gradient = net.InputGradient!;
        float[] before = gradient.ToArray();
        net.Forward(Tensor.From(RandomInputs.Normal(rng, 2 * 72), Device.Cpu, shape));
        Same(before, gradient.ToArray(), "the input gradient after the next forward");
    }

    private static Module Create(string network) => network switch
    {
        "CombinatorNet" => new CombinatorNet(Device.Cpu, seed: 1) { ComputeInputGradient = true },
        "SharingNet" => new SharingNet(Device.Cpu, seed: 2) { ComputeInputGradient = true },
        "PoolingNet" => new PoolingNet(Device.Cpu, seed: 3) { ComputeInputGradient = true },
        "ChunkNet" => new ChunkNet(Device.Cpu, seed: 4) { ComputeInputGradient = true },
        "DropoutNet" => new DropoutNet(Device.Cpu, seed: 5) { ComputeInputGradient = true },
        "MnistNet" => new MnistNet(Device.Cpu, seed: 6),
        "ResNet20" => new ResNet20(Device.Cpu, seed: 7),
        _ => throw new ArgumentException(network),
    };

    private static void Compare(Side[] sides, string what)
    {
        var a = sides[0].Net;
        var b = sides[1].Net;
        for (int i = 0; i < a.Parameters.Count; i++)
        {
            Same(a.Parameters[i].Grad.ToArray(), b.Parameters[i].Grad.ToArray(), $"{what}: {a.Parameters[i].Name}.grad");
            Same(a.Parameters[i].Value.ToArray(), b.Parameters[i].Value.ToArray(), $"{what}: {a.Parameters[i].Name}");
        }
        Assert.Equal(a.InputGradient is null, b.InputGradient is null);
        if (a.InputGradient is not null)
        {
            Same(a.InputGradient.ToArray(), b.InputGradient!.ToArray(), $"{what}: input gradient");
        }
    }

    private static void Same(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}: [{i}] is {expected[i]:R} with shared memory against {actual[i]:R} without");
            }
        }
    }

    private sealed record Side(Module Net, Sgd? Optimizer)
    {
        public static Side Of(Module net) => new(net, net.Parameters.Count > 0 ? new Sgd(net.Parameters, lr: 0.05f, momentum: 0.9f) : null);
    }
}
