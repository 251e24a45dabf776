using Dsl.Data.Seq2Seq;
using Dsl.Tests.Generator;
using Specs.Networks;
using Specs.Seq2Seq;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Seq2Seq;

/// <summary>
/// The encoder-decoder Transformer Spec: its generated code as a snapshot, the attention weights it keeps readable (each
/// head's rows a distribution, the source's padding and the decoder's future weighing 0), and a short run on tiny
/// reversals that must decode held-out pairs far above chance.
/// </summary>
public sealed class TransformerSeq2SeqTests
{
    private readonly ITestOutputHelper _output;

    public TransformerSeq2SeqTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void TransformerSeq2Seq_code_matches_the_snapshot()
    {
        var result = GeneratorHarness.Run(GeneratorHarness.SpecSource("TransformerSeq2Seq.cs"));
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Snapshot.Verify(Assert.Single(result.Generated), "TransformerSeq2Seq");
    }

    [Fact]
    public void Every_attention_keeps_its_weights_per_head_with_padding_and_the_future_at_zero()
    {
        var net = new TransformerSeq2Seq(Device.Cpu, seed: 2);
        Assert.Equal(new[]
        {
            "encoder1.self_attn.weights", "encoder2.self_attn.weights",
            "decoder1.self_attn.weights", "decoder1.multihead_attn.weights", "decoder2.self_attn.weights", "decoder2.multihead_attn.weights",
        }, net.ReadoutNames);
        Assert.Throws<InvalidOperationException>(() => net.Readout("decoder2.multihead_attn.weights"));
        const int n = 2, s = 5, t = 4, heads = TransformerSeq2Seq.Heads;
        long[] source = [4, 5, 6, 7, 8, 9, 10, 11, 0, 0];
        float[] mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
        long[] target = [2, 5, 6, 7, 2, 8, 9, 10];
        net.Eval();
        net.Forward(Tensor.From(source, n, s), Tensor.From(mask, n, s), Tensor.From(target, n, t));
        var cross = net.Readout("decoder2.multihead_attn.weights");
        Assert.Equal(new[] { n, heads, t, s }, cross.Shape);
        float[] w = cross.ToArray();
        for (int b = 0; b < n; b++)
        {
            for (int row = 0; row < heads * t; row++)
            {
                var weights = w.AsSpan((b * heads * t + row) * s, s);
                Assert.Equal(1.0, weights.ToArray().Sum(), 5);
                if (b == 1)
                {
                    Assert.Equal(0f, weights[3]);
                    Assert.Equal(0f, weights[4]);
                }
            }
        }
        float[] self = net.Readout("decoder1.self_attn.weights").ToArray();
        for (int h = 0; h < n * heads; h++)
        {
            for (int q = 0; q < t; q++)
            {
                for (int k = q + 1; k < t; k++)
                {
                    Assert.Equal(0f, self[(h * t + q) * t + k]);
                }
            }
        }
        float[] encoder = net.Readout("encoder1.self_attn.weights").ToArray();
        Assert.Equal(n * heads * s * s, encoder.Length);
        Assert.All(Enumerable.Range(0, heads * s), row => Assert.Equal(0f, encoder[((heads * s) + row) * s + 4]));
    }

    [Fact]
    public void A_few_epochs_on_tiny_reversals_decode_most_held_out_pairs_exactly()
    {
        var data = Seq2SeqData.Generate(new ReverseDigitsTask(minLength: 2, shortMaxLength: 3, maxLength: 4), trainCount: 2000, validCount: 0, testCount: 200, seed: 1, longFraction: 0.2);
        var net = new TransformerSeq2Seq(Device.Cpu, seed: 1);
        var recipe = new Seq2SeqRecipe("reverse", 2000, 0, 200, Epochs: 4, BatchSize: 32, LearningRate: 2e-3f, ClipNorm: 1f);
        var log = new StringWriter();
        var trainer = new Seq2SeqTrainer(net, net.Forward, data, recipe, seed: 1) { Log = log };
        var run = trainer.Fit();
        var report = ExactMatch.Score(data.Test, trainer.Predict(data.Test), bucketWidth: 1);
        _output.WriteLine(log.ToString());
        _output.WriteLine(report.ToString());
        Assert.True(run.Epochs[^1].TrainLoss < run.Epochs[0].TrainLoss / 2, "the teacher-forced loss should fall");
        Assert.Equal(run.Test.Accuracy, report.Accuracy);
        Assert.True(report.Accuracy > 0.5, $"exact match {report.Accuracy:F3} after {run.Epochs.Count} epochs (chance at most 1 in 100)");
    }
}
