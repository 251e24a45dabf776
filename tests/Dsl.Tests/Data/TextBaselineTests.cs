using Dsl.Data.Text;
using Specs.Text;
using Xunit;

namespace Dsl.Tests.Data;

public class TextBaselineTests
{
    [Fact]
    public void Bag_of_words_on_the_slice_is_well_above_chance()
    {
        var corpus = FortunesCorpus.Load(FortunesSlice.Path, FortunesCorpus.ClassificationTopics);
        var split = corpus.Split();
        var (model, result) = BagOfWordsBaseline.Train(split);
        // Eight balanced topics: chance is 0.125, and a guesser's accuracy on the 240 test quotes has a standard
        // deviation of sqrt(0.125 * 0.875 / 240) = 0.021, so 0.35 is over ten deviations above chance.
        Assert.True(result.TestAccuracy > 0.35, result.ToString());
        Assert.True(result.TrainAccuracy > result.TestAccuracy, result.ToString());
        // Predict agrees with the accuracy the training reported.
        long[] labels = split.Labels(split.Test);
        double predicted = split.Test.Select((q, i) => model.Predict(q.Text) == labels[i] ? 1.0 : 0.0).Average();
        Assert.Equal(result.TestAccuracy, predicted, 12);
        var (_, again) = BagOfWordsBaseline.Train(split);
        Assert.Equal(result, again);
    }

    [Fact]
    public void Character_bigram_beats_unigram_which_beats_uniform()
    {
        var split = FortunesCorpus.Load(FortunesSlice.Path, FortunesCorpus.ClassificationTopics).Split();
        string train = FortunesCorpus.CharacterStream(split.Train), valid = FortunesCorpus.CharacterStream(split.Valid);
        var model = CharNgramBaseline.Fit(train);
        double unigram = model.UnigramBitsPerCharacter(valid);
        var (_, bigram) = model.TuneBigram(valid);
        Assert.True(unigram < Math.Log2(model.AlphabetSize), $"unigram {unigram} vs uniform {Math.Log2(model.AlphabetSize)}");
        Assert.True(bigram < unigram - 0.5, $"bigram {bigram} vs unigram {unigram}");
    }

    [Fact]
    public void Bigram_probabilities_sum_to_one_over_the_alphabet()
    {
        // With every symbol of a tiny alphabet in training, P(. | p) summed over the alphabet is 1 for every p:
        // scoring each one-character continuation and summing 2^-bits must give 1.
        var model = CharNgramBaseline.Fit("abcabcaab");
        foreach (char p in "abc")
        {
            double total = 0;
            foreach (char c in "abc")
            {
                // bits(pc) * 2 = bits(p) + bits(c | p)
                double both = model.BigramBitsPerCharacter($"{p}{c}", 0.7) * 2;
                double first = model.BigramBitsPerCharacter($"{p}", 0.7);
                total += Math.Pow(2, -(both - first));
            }
            // The unseen-character slot holds the remaining mass.
            double unseen = Math.Pow(2, -(model.BigramBitsPerCharacter($"{p}z", 0.7) * 2 - model.BigramBitsPerCharacter($"{p}", 0.7)));
            Assert.Equal(1.0, total + unseen, 12);
        }
    }
}
