using System.Diagnostics;
using Dsl.Data.Text;

namespace Specs.Text;

/// <summary>
/// The text baselines end to end, for a CLI command to call: find the corpus (<c>--data</c>, then Debian's
/// packages, then the bundled slice, saying which), split it with the fixed seed, train, and print the figures.
/// </summary>
public static class FortunesBaselines
{
    /// <summary>The seed of the fixed split every text spec uses.</summary>
    public const int SplitSeed = 0;

    /// <summary>
    /// Topic classification over <see cref="FortunesCorpus.ClassificationTopics"/>: the bag-of-words logistic
    /// regression's accuracies (the figure Kim's CNN and the BiLSTM must beat).
    /// </summary>
    public static BaselineResult Classification(string? dataOption, TextWriter log, BagOfWordsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        var location = FortunesCorpus.Locate(dataOption);
        log.WriteLine($"Data: {location.Describe()}");
        var corpus = FortunesCorpus.Load(location.Folder, FortunesCorpus.ClassificationTopics);
        log.WriteLine(string.Join(", ", corpus.Topics.Select(t => $"{t} {corpus.Count(t)}")) + $" ({corpus.Skipped.Count} skipped)");
        var split = corpus.Split(SplitSeed);
        var watch = Stopwatch.StartNew();
        var (_, result) = BagOfWordsBaseline.Train(split, options);
        log.WriteLine($"{result} in {watch.Elapsed.TotalSeconds:F1} s");
        return result;
    }

    /// <summary>
    /// The language-model floor on every topic found: unigram and bigram bits per character on the validation
    /// stream (the character LSTM must go below the bigram's).
    /// </summary>
    public static (double Unigram, double Bigram, double Lambda) CharacterFloor(string? dataOption, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var location = FortunesCorpus.Locate(dataOption);
        log.WriteLine($"Data: {location.Describe()}");
        var corpus = FortunesCorpus.Load(location.Folder, location.Topics);
        var split = corpus.Split(SplitSeed);
        string train = FortunesCorpus.CharacterStream(split.Train), valid = FortunesCorpus.CharacterStream(split.Valid);
        var model = CharNgramBaseline.Fit(train);
        double unigram = model.UnigramBitsPerCharacter(valid);
        var (lambda, bigram) = model.TuneBigram(valid);
        log.WriteLine(FormattableString.Invariant(
            $"{corpus.Quotes.Count:N0} quotes, {train.Length:N0} training characters, alphabet {model.AlphabetSize}: validation bits per character unigram {unigram:F3}, bigram {bigram:F3} (lambda {lambda})"));
        return (unigram, bigram, lambda);
    }
}
