// fmt's implementation, compiled once for the whole program.
//
// Debian ships fmt as headers plus a shared libfmt.so only. Header-only mode
// (FMT_HEADER_ONLY) inlines format-inl.h into every translation unit: with IPA clones
// that left ~30 private copies of the float formatter in husk-runtime (~520 KiB of its
// 3.4 MiB of text), and text that is faulted in around every touched page is resident
// memory. Instead every TU sees fmt's declarations only and this TU defines them once
// (format-inl.h with FMT_FUNC empty) together with the explicit instantiations that
// format.h declares `extern template`, as libfmt itself is built.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template locale_ref::locale_ref(const std::locale& loc);
template auto locale_ref::get<std::locale>() const -> std::locale;
template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl(locale_ref) -> char;
template void buffer<char>::append(const char*, const char*);
template void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>,
                         locale_ref);

}  // namespace detail
FMT_END_NAMESPACE
