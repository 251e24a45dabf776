using Dsl.Data.Seq2Seq;
using Specs.Networks;
using Specs.Seq2Seq;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Seq2Seq;

/// <summary>
/// A short run of the seq2seq Spec on a tiny task (reversing 2 to 4 digits): teacher-forced training through the generated
/// <see cref="Seq2SeqGru"/>, then greedy decoding of held-out pairs. Chance is 1 in 100 for two digits and 1 in 10,000 for
/// four; a few epochs must get most of them right, the long ones included.
/// </summary>
public sealed class Seq2SeqEndToEndTests
{
    private readonly ITestOutputHelper _output;

    public Seq2SeqEndToEndTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void A_few_epochs_on_tiny_reversals_decode_most_held_out_pairs_exactly()
    {
        var data = Seq2SeqData.Generate(new ReverseDigitsTask(minLength: 2, shortMaxLength: 3, maxLength: 4), trainCount: 2000, validCount: 0, testCount: 200, seed: 1, longFraction: 0.2);
        var net = new Seq2SeqGru(Device.Cpu, seed: 1);
        var recipe = new Seq2SeqRecipe("reverse", 2000, 0, 200, Epochs: 3, BatchSize: 32, LearningRate: 3e-3f, ClipNorm: 1f);
        var log = new StringWriter();
        var trainer = new Seq2SeqTrainer(net, net.Forward, data, recipe, seed: 1) { Log = log };
        var run = trainer.Fit();
        var report = ExactMatch.Score(data.Test, trainer.Predict(data.Test), bucketWidth: 1);
        _output.WriteLine(log.ToString());
        _output.WriteLine(report.ToString());
        Assert.True(run.Epochs[^1].TrainLoss < run.Epochs[0].TrainLoss / 2, "the teacher-forced loss should fall");
        Assert.Equal(run.Test.Accuracy, report.Accuracy);
        Assert.True(report.Accuracy > 0.6, $"exact match {report.Accuracy:F3} after {run.Epochs.Count} epochs");
        var longest = report.Buckets.Single(b => b.MinLength == 4);
        Assert.True(longest.Accuracy > 0.3, $"exact match {longest.Accuracy:F3} on 4-digit sources");
    }
}
