using Dsl.Data;
using Dsl.Tests.Generator;
using Dsl.Training;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// The public training loop on a small slice of real Fashion-MNIST with the MLP: refusals, divergence, callbacks and
/// metrics, each checked against something computed independently of the trainer.
/// </summary>
public class TrainerTests
{
    private static readonly Lazy<FashionMnist> Slice = new(() =>
        FashionMnist.Load(Path.Combine(GeneratorHarness.RepoRoot(), "Specs", "Data", "fashion-mnist")));

    private static Trainer Make(Module net, int epochs, float lr = 1e-3f) => new(net, new Adam(net.Parameters, lr))
    {
        Epochs = epochs,
        BatchSize = 32,
        Seed = 2,
        Progress = TrainingProgress.None,
    };

    private static string TempFile(string name) => Path.Combine(Path.GetTempPath(), $"dsl-trainer-{Guid.NewGuid():N}-{name}");

    [Fact]
    public void Fit_refuses_an_empty_training_set_and_an_empty_test_set_with_the_reason()
    {
        var net = new Mlp(Device.Cpu, seed: 1);
        var data = Slice.Value;
        var emptyTrain = Assert.Throws<ArgumentException>(() => Make(net, 1).Fit(data.Train.Take(0), data.Test.Take(10)));
        Assert.Contains("training set 'train' is empty", emptyTrain.Message, StringComparison.Ordinal);
        var emptyTest = Assert.Throws<ArgumentException>(() => Make(net, 1).Fit(data.Train.Take(10), data.Test.Take(0)));
        Assert.Contains("test set 'test' is empty", emptyTest.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Trainer.Evaluate(net, data.Test.Take(0)));
    }

    [Fact]
    public void A_loss_that_becomes_NaN_stops_training_and_the_checkpoint_keeps_the_last_finite_weights()
    {
        var net = new Mlp(Device.Cpu, seed: 1);
        var data = Slice.Value;
        string path = TempFile("last.safetensors");
        try
        {
            var trainer = Make(net, epochs: 3);
            var checkpoint = new ModelCheckpoint(path, bestOnly: false);
            trainer.Callbacks.Add(checkpoint);
            // After epoch 1 one weight becomes NaN, as a diverging step would make it.
            trainer.Callbacks.Add(new LambdaCallback((context, result) =>
            {
                if (result.Epoch == 1)
                {
                    var weight = context.Network.Parameters[0].Value;
                    var values = weight.ToArray();
                    values[0] = float.NaN;
                    context.Network.Device.Upload(values, weight);
                }
            }));
            var e = Assert.Throws<NonFiniteLossException>(() => trainer.Fit(data.Train.Take(320), data.Test.Take(64)));
            Assert.Equal(2, e.Epoch);
            Assert.Equal(11, e.Step);
            Assert.True(double.IsNaN(e.Value));
            Assert.Contains("training loss became NaN in epoch 2", e.Message, StringComparison.Ordinal);
            Assert.Single(e.History.Epochs);
            Assert.Equal(1, checkpoint.SavedEpoch);

            var reloaded = new Mlp(Device.Cpu, seed: 99);
            Checkpoint.Load(reloaded, path);
            Assert.All(reloaded.Parameters, p => Assert.All(p.Value.ToArray(), v => Assert.True(float.IsFinite(v))));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Early_stopping_ends_the_run_when_the_monitor_stops_improving()
    {
        var net = new Mlp(Device.Cpu, seed: 1);
        var data = Slice.Value;
        var trainer = Make(net, epochs: 6);
        // No epoch can improve the training loss by 1e9 after the first, so the run stops after epoch 1 + patience.
        var stopping = new EarlyStopping(patience: 2, monitor: Metric.TrainLoss, minDelta: 1e9);
        trainer.Callbacks.Add(stopping);
        var history = trainer.Fit(data.Train.Take(128), data.Test.Take(32));
        Assert.Equal(3, history.Epochs.Count);
        Assert.Equal(3, stopping.StoppedEpoch);
        Assert.StartsWith("early stopping: TrainLoss did not improve for 2 epochs", history.StopReason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_best_checkpoint_restores_the_weights_that_scored_the_best_test_accuracy()
    {
        var net = new Mlp(Device.Cpu, seed: 1);
        var data = Slice.Value;
        string path = TempFile("best.safetensors");
        try
        {
            // A high learning rate makes the test accuracy move around, so the best epoch is rarely the last.
            var trainer = Make(net, epochs: 4, lr: 3e-3f);
            var best = new ModelCheckpoint(path, Metric.TestAccuracy);
            trainer.Callbacks.Add(best);
            var history = trainer.Fit(data.Train.Take(640), data.Test.Take(200));
            var bestEpoch = history.Epochs.MaxBy(e => e.TestAccuracy)!;
            Assert.Equal(history.Epochs.First(e => e.TestAccuracy == bestEpoch.TestAccuracy).Epoch, best.SavedEpoch);

            best.Restore(net);
            var evaluation = Trainer.Evaluate(net, data.Test.Take(200), batchSize: 32);
            Assert.Equal(bestEpoch.TestAccuracy, evaluation.Accuracy, 12);
            Assert.Equal(bestEpoch.TestLoss, evaluation.Loss, 5);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Evaluate_matches_arg_max_top_k_and_confusion_counts_computed_from_the_outputs()
    {
        var net = new Mlp(Device.Cpu, seed: 1);
        Make(net, epochs: 1).Fit(Slice.Value.Train.Take(640), Slice.Value.Test.Take(64));
        var test = Slice.Value.Test.Take(100);
        var evaluation = Trainer.Evaluate(net, test, batchSize: 100, topK: 3);

        // The reference: one forward pass of all 100 images, scored on the host.
        net.Eval();
        var images = new float[100 * test.SampleLength];
        var labels = new long[100];
        test.Gather(Enumerable.Range(0, 100).ToArray(), images, labels);
        var scores = net.Forward(Tensor.From(images, 100, 1, 28, 28)).ToArray();
        net.Train();
        long correct = 0, top3 = 0;
        var confusion = new long[10, 10];
        for (int r = 0; r < 100; r++)
        {
            var row = scores.AsSpan(r * 10, 10);
            int predicted = row.IndexOf(TensorMax(row));
            confusion[labels[r], predicted]++;
            correct += predicted == labels[r] ? 1 : 0;
            float own = row[(int)labels[r]];
            top3 += row.ToArray().Count(v => v > own) < 3 ? 1 : 0;
        }
        Assert.Equal(100, evaluation.Samples);
        Assert.Equal(correct / 100.0, evaluation.Accuracy, 12);
        Assert.Equal(top3 / 100.0, evaluation.TopKAccuracy, 12);
        Assert.Equal(confusion, evaluation.ConfusionMatrix);
        for (int c = 0; c < 10; c++)
        {
            long inClass = labels.Count(l => l == c);
            Assert.Equal(inClass == 0 ? double.NaN : confusion[c, c] / (double)inClass, evaluation.PerClassAccuracy[c], 12);
        }
        Assert.InRange(evaluation.Accuracy, 0.3, 1.0);
        Assert.True(evaluation.TopKAccuracy >= evaluation.Accuracy);
    }

    private static float TensorMax(ReadOnlySpan<float> row)
    {
        float max = row[0];
        foreach (var v in row)
        {
            max = Math.Max(max, v);
        }
        return max;
    }

    [Fact]
    public void History_plot_and_csv_hold_train_and_test_loss_and_accuracy()
    {
        var net = new Mlp(Device.Cpu, seed: 1);
        var history = Make(net, epochs: 2).Fit(Slice.Value.Train.Take(256), Slice.Value.Test.Take(64));
        Assert.Equal(2, history.Epochs.Count);
        Assert.All(history.Epochs, e =>
        {
            Assert.InRange(e.TrainAccuracy, 0.0, 1.0);
            Assert.InRange(e.TestAccuracy, 0.0, 1.0);
            Assert.True(double.IsFinite(e.TestLoss) && e.TestLoss > 0);
            Assert.Equal(1e-3, e.LearningRate, 6);
        });
        Assert.Equal(16, history.BatchLosses.Count);
        string folder = TempFile("run");
        try
        {
            var files = TrainingPlot.WriteAll(folder, "mlp", history);
            var png = File.ReadAllBytes(files[0]);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            var csv = File.ReadAllLines(files[1]);
            Assert.Equal("epoch,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,eval_seconds,samples_per_second,learning_rate", csv[0]);
            Assert.Equal(3, csv.Length);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
