namespace Dsl.Data.Seq2Seq;

/// <summary>A source string and the target a model must produce for it.</summary>
/// <param name="Source">The input text.</param>
/// <param name="Target">The expected output text.</param>
/// <param name="IsLong">True when the task counts the source as long (rare in training, half of validation and test).</param>
public sealed record Seq2SeqExample(string Source, string Target, bool IsLong);
