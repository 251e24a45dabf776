using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Xunit;

namespace Dsl.Tests.Transformer;

/// <summary>
/// Run-time freezing (<see cref="Module.Freeze"/>) of the built-in Transformer layers, whose parameter gradients are written by
/// their runtime objects (<see cref="MultiHeadAttentionState"/>, <see cref="TransformerLayerState"/>) rather than through the
/// generated code's <c>GradFor</c>: a frozen layer above a trained one still passes the gradient down, but leaves its own
/// parameters' gradients untouched, and the trained layers get exactly the gradients of an unfrozen twin.
/// </summary>
public sealed class TransformerFreezingTests
{
    private const float Sentinel = 0.5f;

    [Theory]
    [InlineData("enc", "attn")]
    [InlineData("attn")]
    [InlineData("enc.self_attn", "enc.norm2", "attn.out_proj")]
    [InlineData("enc.linear1", "attn.in_proj_weight")]
    public void A_frozen_transformer_layer_passes_the_gradient_down_and_leaves_its_own_untouched(params string[] frozen)
    {
        var device = Device.Cpu;
        var net = new FrozenTransformerNet(device, seed: 3);
        var twin = new FrozenTransformerNet(device, seed: 3);
        var rng = new Random(21);
        var x = Tensor.From(RandomInputs.Normal(rng, 2 * 5 * 8), device, 2, 5, 8);
        var dy = Tensor.From(RandomInputs.Normal(rng, 2 * 5 * 3), device, 2, 5, 3);
        net.Freeze(frozen);
        Assert.Contains(net.Parameters, p => !p.RequiresGrad);
        net.ZeroGrad();
        foreach (var p in net.Parameters.Where(p => !p.RequiresGrad))
        {
            device.Upload(Enumerable.Repeat(Sentinel, (int)p.Length).ToArray(), p.Grad);
        }
        net.Forward(x);
        net.Backward(dy);
        twin.ZeroGrad();
        twin.Forward(x);
        twin.Backward(dy);
        var twinParams = twin.Parameters.ToDictionary(p => p.Name);
        foreach (var p in net.Parameters)
        {
            var grad = p.Grad.ToArray();
            if (p.RequiresGrad)
            {
                Assert.Contains(grad, v => v != 0f);
                Tolerance.Elementwise.AssertClose(twinParams[p.Name].Grad.ToArray(), grad, p.Name + ".grad");
            }
            else
            {
                Assert.True(grad.All(v => v == Sentinel), $"{p.Name} is frozen, but its gradient changed");
            }
        }
        // The layer under the frozen ones is trained, so the gradient went through them.
        Assert.True(net.Parameters.Single(p => p.Name == "below.weight").RequiresGrad);
    }
}
