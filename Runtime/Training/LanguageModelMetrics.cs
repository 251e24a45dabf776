namespace Dsl.Training;

/// <summary>
/// A language model's figures from its mean cross-entropy per token (natural log, as <see cref="Loss.CrossEntropy"/>
/// and <see cref="Loss.Nll"/> report it): perplexity <c>e^loss</c> and bits per token <c>loss / ln 2</c> (bits per
/// character when the tokens are characters). The one place these conversions are written.
/// </summary>
public static class LanguageModelMetrics
{
    /// <summary><c>exp(loss)</c>: the model is as unsure as a uniform choice among this many tokens.</summary>
    public static double Perplexity(double meanLoss) => Math.Exp(meanLoss);

    /// <summary><c>loss / ln 2</c>: the mean code length per token, in bits, of an arithmetic coder driven by the model.</summary>
    public static double BitsPerToken(double meanLoss) => meanLoss / Math.Log(2.0);

    /// <summary><see cref="BitsPerToken"/> for a character-level model.</summary>
    public static double BitsPerCharacter(double meanLoss) => BitsPerToken(meanLoss);
}
