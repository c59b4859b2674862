using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Cjk;
using Lucene.Net.Analysis.Core;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Util;

namespace Zhongtai.Indexing.Inverted;

/// <summary>
/// English + Chinese/Japanese/Korean in one analyzer, as Lucene's <c>CJKAnalyzer</c> with a Porter stemmer:
/// Unicode word segmentation (<c>StandardTokenizer</c>), full/half-width folding, lower-casing, CJK runs to
/// overlapping bigrams ("红色连衣裙" → 红色 色连 连衣 衣裙), English stop words, Porter stemming of Latin
/// words ("dresses" → "dress"). The stemmer leaves CJK bigrams untouched (it only strips Latin suffixes).
/// </summary>
internal sealed class MixedLanguageAnalyzer : Analyzer
{
    internal const LuceneVersion Version = LuceneVersion.LUCENE_48;

    protected override TokenStreamComponents CreateComponents(string fieldName, TextReader reader)
    {
        var source = new StandardTokenizer(Version, reader);
        TokenStream result = new CJKWidthFilter(source);
        result = new LowerCaseFilter(Version, result);
        result = new CJKBigramFilter(result);
        result = new StopFilter(Version, result, StopAnalyzer.ENGLISH_STOP_WORDS_SET);
        result = new PorterStemFilter(result);
        return new TokenStreamComponents(source, result);
    }
}
