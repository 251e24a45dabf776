namespace Dsl.Data.Seq2Seq;

/// <summary>A generated sequence-to-sequence task: character alphabets and a seeded example maker.</summary>
public interface ISeq2SeqTask
{
    /// <summary>A short name (<c>reverse</c>, <c>sort</c>, <c>dates</c>).</summary>
    string Name { get; }

    /// <summary>Every character a source can hold, in a fixed order (the source vocabulary's order).</summary>
    string SourceAlphabet { get; }

    /// <summary>Every character a target can hold, in a fixed order.</summary>
    string TargetAlphabet { get; }

    /// <summary>A random example, long (a source longer than every short one) when <paramref name="isLong"/>.</summary>
    Seq2SeqExample Sample(SeededRandom random, bool isLong);

    /// <summary>The correct target for <paramref name="source"/>, computed independently of how it was made.</summary>
    string Solve(string source);
}
