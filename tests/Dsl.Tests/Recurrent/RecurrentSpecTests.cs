using Dsl.Tests.Networks;
using Specs.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Recurrent;

/// <summary>
/// The Spec networks of the recurrent layers on tiny batches: their gradients against finite differences (in evaluation
/// mode, where their dropout is the identity), the attention weights <see cref="BiLstmAttention"/> exposes, and the
/// shapes their training recipes rely on.
/// </summary>
public sealed class RecurrentSpecTests
{
    private readonly ITestOutputHelper _output;

    public RecurrentSpecTests(ITestOutputHelper output) => _output = output;

    /// <summary>Token ids [N,T] below <paramref name="vocabulary"/>, 0 (the padding id) past each length, and the mask [N,T].</summary>
    internal static (Tensor Tokens, Tensor Mask) Batch(Random rng, int vocabulary, int t, params int[] lengths)
    {
        var ids = new long[lengths.Length * t];
        var mask = new float[lengths.Length * t];
        for (int b = 0; b < lengths.Length; b++)
        {
            for (int s = 0; s < lengths[b]; s++)
            {
                ids[b * t + s] = 1 + rng.Next(vocabulary - 1);
                mask[b * t + s] = 1f;
            }
        }
        return (Tensor.From(ids, Device.Cpu, lengths.Length, t), Tensor.From(mask, Device.Cpu, lengths.Length, t));
    }

    [Fact]
    public void BiLstmAttention_gradients_match_finite_differences_on_a_padded_batch()
    {
        var net = new BiLstmAttention(Device.Cpu, seed: 3);
        net.Eval();
        // Few distinct words, so the checked embedding rows are ones the batch uses.
        var (tokens, mask) = Batch(new Random(5), 6, 6, 6, 4, 2);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 2, MaxCoordinatesPerTensor = 24 }.Run(net, Array.Empty<int[]>(),
            _ => net.Forward(tokens, mask), batch: 3, seed: 21));
        // The padding row of the table never receives gradient.
        Assert.All(net.Parameters.Single(p => p.Name == "embedding1.weight").Grad.ToArray().Take(BiLstmAttention.EmbeddingDim), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void CharLstm_gradients_match_finite_differences()
    {
        var net = new CharLstm(Device.Cpu, seed: 4);
        net.Eval();
        var (tokens, _) = Batch(new Random(6), 8, 5, 5, 5);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1, MaxCoordinatesPerTensor = 16 }.Run(net, Array.Empty<int[]>(),
            _ => net.Forward(tokens), batch: 2, seed: 22));
    }

    [Fact]
    public void BiLstmAttention_weights_are_a_distribution_over_each_quotes_words()
    {
        var net = new BiLstmAttention(Device.Cpu, seed: 5);
        Assert.Equal(new[] { BiLstmAttention.AttentionReadout }, net.ReadoutNames);
        Assert.Throws<InvalidOperationException>(() => net.Readout(BiLstmAttention.AttentionReadout));
        var (tokens, mask) = Batch(new Random(7), 100, 9, 9, 5, 1);
        var logits = net.Forward(tokens, mask);
        Assert.Equal(new[] { 3, BiLstmAttention.Topics }, logits.Shape);
        var weights = net.Readout(BiLstmAttention.AttentionReadout);
        Assert.Equal(new[] { 3, 9 }, weights.Shape);
        float[] w = weights.ToArray();
        int[] lengths = { 9, 5, 1 };
        for (int b = 0; b < 3; b++)
        {
            Assert.Equal(1.0, w.Skip(b * 9).Take(lengths[b]).Sum(), 5);
            Assert.All(w.Skip(b * 9 + lengths[b]).Take(9 - lengths[b]), v => Assert.Equal(0f, v));
            Assert.All(w.Skip(b * 9).Take(lengths[b]), v => Assert.True(v > 0f));
        }
    }

    [Fact]
    public void CharLstm_gives_logits_per_step_and_names_its_parameters_as_pytorch()
    {
        var net = new CharLstm(Device.Cpu, seed: 6);
        var (tokens, _) = Batch(new Random(8), CharLstm.Vocabulary, 7, 7, 7);
        Assert.Equal(new[] { 2, 7, CharLstm.Vocabulary }, net.Forward(tokens).Shape);
        Assert.Equal(new[]
        {
            "embedding1.weight",
            "lstm1.weight_ih_l0", "lstm1.weight_hh_l0", "lstm1.bias_ih_l0", "lstm1.bias_hh_l0",
            "lstm1.weight_ih_l1", "lstm1.weight_hh_l1", "lstm1.bias_ih_l1", "lstm1.bias_hh_l1",
            "fc1.weight", "fc1.bias",
        }, net.Parameters.Select(p => p.Name));
        Assert.Equal(new[] { 4 * CharLstm.Hidden, CharLstm.EmbeddingDim }, net.Parameters[1].Value.Shape);
        Assert.Equal(new[] { 4 * CharLstm.Hidden, CharLstm.Hidden }, net.Parameters[6].Value.Shape);
        // PyTorch's initialisation: every recurrent weight in U(-1/sqrt(H), 1/sqrt(H)), and spread over that range.
        double bound = 1 / Math.Sqrt(CharLstm.Hidden);
        foreach (var p in net.Parameters.Where(p => p.Name.StartsWith("lstm1.", StringComparison.Ordinal)))
        {
            float[] v = p.Value.ToArray();
            Assert.All(v, x => Assert.InRange(x, -bound, bound));
            Assert.True(v.Max() > 0.9 * bound && v.Min() < -0.9 * bound, $"{p.Name} does not span U(-1/sqrt(H), 1/sqrt(H))");
        }
    }

    [Fact]
    public void A_mask_that_is_not_ones_then_zeros_is_refused_naming_the_network_and_input()
    {
        var net = new BiLstmAttention(Device.Cpu);
        var (tokens, _) = Batch(new Random(9), 50, 4, 4, 4);
        var holey = Tensor.From(new float[] { 1, 0, 1, 0, 1, 1, 1, 1 }, Device.Cpu, 2, 4);
        var e = Assert.ThrowsAny<ArgumentException>(() => net.Forward(tokens, holey));
        Assert.Contains("BiLstmAttention.Forward: input 'mask'", e.Message);
    }

    [Fact]
    public void Backward_after_an_evaluation_forward_replays_it_and_gives_the_same_gradients()
    {
        // An evaluation forward lets values share memory once consumed; the Backward after it runs the forward again.
        var (tokens, mask) = Batch(new Random(10), 300, 8, 8, 6, 3);
        var dy = Tensor.From(Gradients.RandomInputs.Normal(new Random(11), 3 * BiLstmAttention.Topics), Device.Cpu, 3, BiLstmAttention.Topics);
        var kept = new BiLstmAttention(Device.Cpu, seed: 12);
        kept.Eval();
        kept.ComputeInputGradient = true;
        float[] y = kept.Forward(tokens, mask).ToArray();
        kept.Backward(dy);
        var replayed = new BiLstmAttention(Device.Cpu, seed: 12);
        replayed.Eval();
        Assert.Equal(y, replayed.Forward(tokens, mask).ToArray());
        replayed.Backward(dy);
        for (int i = 0; i < kept.Parameters.Count; i++)
        {
            Assert.Equal(kept.Parameters[i].Grad.ToArray(), replayed.Parameters[i].Grad.ToArray());
        }
    }
}
