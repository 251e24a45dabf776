using Dsl.Tests.Gradients;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.Visualization;

/// <summary>
/// <see cref="Module.Probe"/>: a probed layer's value equals the output of the same network cut at that layer, in training
/// and in evaluation mode (whose planned memory reuses the early buffers later in the same forward), by name or number.
/// </summary>
public sealed class ProbeTests
{
    private static Tensor Images(int n, int seed) => Tensor.From(RandomInputs.Normal(new Random(seed), n * 64), Device.Cpu, n, 1, 8, 8);

    private static void CopyWeights(Module from, Module to)
    {
        for (int i = 0; i < to.Parameters.Count; i++)
        {
            Assert.Equal(from.Parameters[i].Name, to.Parameters[i].Name);
            to.Parameters[i].Load(from.Parameters[i].Value);
        }
    }

    [Fact]
    public void Probe_names_are_the_summary_names_or_numbers_of_unnamed_layers()
    {
        var net = new ProbeNet(Device.Cpu, 1);
        Assert.Equal(new[] { "conv1", "2", "3", "conv2", "5", "6", "fc1", "8" }, net.ProbeNames);
        var trunk = new Dsl.Tests.Transfer.TrunkNet(Device.Cpu, 1);
        // TrunkNet's named layers are all fused with what follows them (conv1 folded into bn1 in evaluation, bn1 and conv2
        // applying the ReLUs after them), so the probe lists the ReLUs and refuses the fused layers by their dotted names.
        Assert.Equal(new[] { "3", "5", "6", "fc1", "8" }, trunk.ProbeNames);
        foreach (string name in new[] { "trunk.conv1", "trunk.bn1", "trunk.conv2" })
        {
            var e = Assert.Throws<InvalidOperationException>(() => trunk.Probe(name));
            Assert.Contains($"TrunkNet.Probe: layer '{name}' is fused", e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_probe_holds_what_the_network_cut_at_that_layer_computes(bool training)
    {
        var net = new ProbeNet(Device.Cpu, 3);
        var toRelu = new ProbeNetToRelu(Device.Cpu, 0);
        var toConv2 = new ProbeNetToConv2(Device.Cpu, 0);
        CopyWeights(net, toRelu);
        CopyWeights(net, toConv2);
        if (!training)
        {
            net.Eval();
        }
        var x = Images(5, 7);
        using var probe = net.Probe("2", "conv2", "fc1");
        var output = net.Forward(x).ToArray();
        Assert.Equal(toRelu.Forward(x).ToArray(), probe["2"].ToArray());
        Assert.Equal(new[] { 5, 3, 6, 6 }, probe["2"].Shape);
        Assert.Equal(toConv2.Forward(x).ToArray(), probe["conv2"].ToArray());
        Assert.Equal(new[] { 5, 4, 2, 2 }, probe["4"].Shape);          // the same layer by its number
        Assert.Equal(new[] { 5, 5 }, probe["fc1"].Shape);
        // The probe did not change the forward.
        Assert.Equal(new ProbeNetCopy(net).Forward(x), output);
    }

    /// <summary>The same network without a probe: its output is the reference the probed forward must match.</summary>
    private sealed class ProbeNetCopy(ProbeNet source)
    {
        public float[] Forward(Tensor x)
        {
            var copy = new ProbeNet(Device.Cpu, 0);
            CopyWeights(source, copy);
            if (!source.IsTraining)
            {
                copy.Eval();
            }
            return copy.Forward(x).ToArray();
        }
    }

    [Fact]
    public void A_probe_follows_each_forward_and_a_disposed_probe_stops_copying()
    {
        var net = new ProbeNet(Device.Cpu, 3);
        var cut = new ProbeNetToRelu(Device.Cpu, 0);
        CopyWeights(net, cut);
        var probe = net.Probe("2");
        Assert.Throws<InvalidOperationException>(() => probe["2"]);
        var a = Images(4, 1);
        var b = Images(2, 2);
        net.Forward(a);
        Assert.Equal(cut.Forward(a).ToArray(), probe["2"].ToArray());
        net.Forward(b);
        Assert.Equal(cut.Forward(b).ToArray(), probe["2"].ToArray());
        probe.Dispose();
        var kept = probe["2"].ToArray();
        net.Forward(a);
        Assert.Equal(kept, probe["2"].ToArray());
    }

    [Fact]
    public void An_unknown_layer_name_is_an_error_listing_the_valid_ones()
    {
        var net = new ProbeNet(Device.Cpu, 1);
        var e = Assert.Throws<KeyNotFoundException>(() => net.Probe("conv3"));
        Assert.Equal("ProbeNet has no layer 'conv3'; its layers are conv1, 2, 3, conv2, 5, 6, fc1, 8.", e.Message);
        Assert.Throws<KeyNotFoundException>(() => net.Probe("0"));         // the input is not a layer
        using var probe = net.Probe("conv1");
        net.Forward(Images(1, 1));
        var other = Assert.Throws<KeyNotFoundException>(() => probe["fc1"]);
        Assert.Contains("copies conv1, not 'fc1'", other.Message);
    }

    [Fact]
    public void Mnist_net_probes_read_the_course_layers()
    {
        var net = new MnistNet(Device.Cpu, 1);
        net.Eval();
        using var probe = net.Probe("conv1", "conv2", "fc2");
        var x = Tensor.From(RandomInputs.Normal(new Random(3), 2 * 784), Device.Cpu, 2, 1, 28, 28);
        var logp = net.Forward(x).ToArray();
        Assert.Equal(new[] { 2, 10, 24, 24 }, probe["conv1"].Shape);
        Assert.Equal(new[] { 2, 20, 8, 8 }, probe["conv2"].Shape);
        // fc2's scores give the network's log-softmax output.
        var scores = probe["fc2"].ToArray();
        for (int r = 0; r < 2; r++)
        {
            double lse = Math.Log(scores.Skip(r * 10).Take(10).Sum(v => Math.Exp(v)));
            for (int k = 0; k < 10; k++)
            {
                Assert.Equal(scores[r * 10 + k] - lse, logp[r * 10 + k], 4);
            }
        }
    }
}
