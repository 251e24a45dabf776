using System.Globalization;
using Dsl;
using Dsl.Data.Text;
using Dsl.Training;
using Specs.Text;

namespace Specs.Cli;

/// <summary>
/// A character language model on the whole fortunes corpus (every topic found; the fixed split's training quotes as one
/// stream, the validation quotes as another): windows of <see cref="Window"/> characters with next-character targets,
/// <see cref="WindowsPerEpoch"/> of them per epoch, validation bits per character after each epoch beside the bigram
/// floor, the best epoch's weights and vocabulary saved, and a sample at the end.
/// </summary>
/// <typeparam name="TNet">The generated network, whose <c>Forward(tokens)</c> the entry passes in.</typeparam>
public sealed class LanguageModelTask<TNet>(Func<TNet, Tensor, Tensor> forward) : NetworkTask, ISamplingTask, IAttentionMapTask
    where TNet : Module
{
    /// <summary>How the network takes token ids [N,T] to scores [N,T,V]: <c>(net, x) =&gt; net.Forward(x)</c>.</summary>
    public Func<TNet, Tensor, Tensor> Forward { get; } = forward;

    /// <summary>Characters per window (T): the steps backpropagated through.</summary>
    public int Window { get; init; } = 100;

    /// <summary>
    /// Windows per epoch by default (<c>--windows</c> overrides): the budget that keeps an epoch to minutes on a
    /// 2-core machine. 60 windows of 64 x 100 characters are 384,000 characters, about a fifth of the full corpus's
    /// training stream (323 windows), measured at about 3.5 s a window for <c>char-lstm</c> on 2 cores.
    /// </summary>
    public int WindowsPerEpoch { get; init; } = 60;

    public override string Data => "the fortunes character stream";

    /// <summary>The readout <c>attention-map</c> draws (a causal self-attention's weights); null for a network without attention.</summary>
    public string? AttentionReadout { get; init; }

    public string? DefaultReadout => AttentionReadout;

    /// <summary>
    /// Runs <c>--text</c> (or the first 60 characters of validation quote <c>--index</c> of the fixed split) through the model and
    /// draws <paramref name="readout"/>: every character against the characters it may see.
    /// </summary>
    public AttentionExample Attend(CliOutput cli, Module net, AttentionMapSettings settings, string readout)
    {
        if (!File.Exists(settings.VocabularyPath))
        {
            throw new UsageException($"{settings.VocabularyPath}: not found; the checkpoint needs the vocabulary its run wrote beside it.");
        }
        var vocabulary = Vocabulary.Load(settings.VocabularyPath);
        string text = settings.Text ?? ValidationQuote(settings);
        int[] ids = vocabulary.Encode(text, CharacterTokenizer.Instance);
        if (ids.Length > Window)
        {
            throw new UsageException($"--text holds {ids.Length} characters; the model was trained on windows of {Window}.");
        }
        net.Eval();
        Forward((TNet)net, Tensor.From(ids.Select(id => (long)id).ToArray(), net.Device, 1, ids.Length));
        string[] labels = ids.Select(id => vocabulary[id]).ToArray();
        cli.Out.WriteLine($"\"{text}\": {ids.Length} characters");
        return new AttentionExample(net.Readout(readout), labels, labels, $"\"{(text.Length > 40 ? text[..40] + "..." : text)}\"");
    }

    private static string ValidationQuote(AttentionMapSettings settings)
    {
        var location = FortunesCorpus.Locate(settings.Data);
        var valid = FortunesCorpus.Load(location.Folder, location.Topics).Split(FortunesBaselines.SplitSeed).Valid;
        if (settings.Index >= valid.Count)
        {
            throw new UsageException($"--index {settings.Index}: the validation split has {valid.Count} quotes");
        }
        string quote = valid[settings.Index].Text;
        return quote.Length > 60 ? quote[..60] : quote;
    }

    public override string? Refuse(TrainSettings settings)
        => settings.ShowAttention ? "--show-attention applies to bilstm-attention, not to language models."
            : settings.LimitTrain is not null || settings.LimitTest is not null ? "--limit-train and --limit-test apply to images; a language model's epoch is bounded with --windows."
            : null;

    /// <summary>A sampler of the trained <paramref name="net"/> over <paramref name="vocabulary"/>.</summary>
    public CharSampler Sampler(Module net, Vocabulary vocabulary) => new(net, x => Forward((TNet)net, x), vocabulary, Window);

    public override int Train(TrainRun run)
    {
        var output = run.Cli.Out;
        var net = (TNet)run.CreateNetwork();
        var location = FortunesCorpus.Locate(run.Settings.Data);
        var corpus = FortunesCorpus.Load(location.Folder, location.Topics);
        var split = corpus.Split(FortunesBaselines.SplitSeed);
        string trainText = FortunesCorpus.CharacterStream(split.Train), validText = FortunesCorpus.CharacterStream(split.Valid);
        var vocabulary = Vocabulary.Build([trainText], CharacterTokenizer.Instance, minFrequency: 1, maxSize: TopicData.EmbeddingRows(net));
        int[] trainStream = vocabulary.Encode(trainText, CharacterTokenizer.Instance);
        int[] validStream = vocabulary.Encode(validText, CharacterTokenizer.Instance);
        var floor = CharNgramBaseline.Fit(trainText);
        var (lambda, bigram) = floor.TuneBigram(validText);
        output.WriteLine($"data: {location.Describe()}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"      {corpus.Quotes.Count:N0} quotes of {corpus.Topics.Count} topics: {trainStream.Length:N0} training / {validStream.Length:N0} validation characters, vocabulary {vocabulary.Count} (of the embedding's {TopicData.EmbeddingRows(net)} rows)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"floor: bigram model (lambda {lambda}) {bigram:F3} validation bits per character, unigram {floor.UnigramBitsPerCharacter(validText):F3}"));

        var recipe = run.Recipe;
        int rows = recipe.BatchSize;
        var batcher = new LanguageModelBatcher(trainStream, run.Device, rows, Window, run.Settings.Seed);
        int windows = run.Settings.Windows ?? WindowsPerEpoch;
        var train = new WindowBudget(batcher, windows, run.Settings.Seed);
        var valid = new LanguageModelBatcher(validStream, run.Device, rows, Window, randomOffset: false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {run.Info.Name} ({net.ParameterCount:N0} parameters) on {run.Device.Name}: {recipe}, seed {run.Settings.Seed}; "
            + $"{train.BatchesIn(0)} of the stream's {batcher.WindowCount(0)} windows of {rows} x {Window} characters per epoch ({(double)train.BatchesIn(0) * rows * Window:N0} characters), {valid.WindowCount(0)} validation windows"));

        vocabulary.Save(Path.Combine(run.Folder, TextClassificationTask<TNet>.VocabularyFile));
        var optimizer = recipe.CreateOptimizer(net);
        var schedule = recipe.CreateSchedule(optimizer);
        var best = new ModelCheckpoint(run.Weights, Metric.TestLoss, bestOnly: true, metadata: run.Metadata());
        var report = new LambdaCallback((_, r) => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch}: validation {LanguageModelMetrics.BitsPerCharacter(r.TestLoss):F3} bits per character (perplexity {LanguageModelMetrics.Perplexity(r.TestLoss):F2}), "
            + $"training {LanguageModelMetrics.BitsPerCharacter(r.TrainLoss):F3}; {r.TrainSeconds:F1} s, {r.SamplesPerSecond * Window:N0} characters/s")));
        BatchForward<LanguageModelBatch> step = b => Forward(net, b.Input);
        var history = run.Fit($"{run.Info.Name} on the fortunes characters ({recipe})", best,
            progress => run.CreateTrainer(net, optimizer, schedule, progress, best, report).Fit(train, valid, step), TextClassificationTask<TNet>.Validation);

        best.Restore(net);
        double bits = LanguageModelMetrics.BitsPerCharacter(best.BestValue);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{run.Info.Name}: validation {bits:F3} bits per character at epoch {best.SavedEpoch} of {history.Epochs.Count} (bigram floor {bigram:F3}, {(bits < bigram ? "below" : "not below")} it); {history.SecondsPerEpoch:F1} s/epoch"));
        string sample = Sampler(net, vocabulary).Sample(FortunesCorpus.StreamSeparator[1..], 300, 0.8, run.Settings.Seed);
        output.WriteLine("sample (temperature 0.8, 300 characters):");
        output.WriteLine(sample);
        return 0;
    }
}
