//! One module per console page, and the routes that load pages' code on
//! demand. The shell (layout, router, runtime) ships with the Overview and the
//! sign-in page; the other pages come in five groups, each loaded the first
//! time one of its pages is shown (`.ci/lib.sh` splits the WASM file there).
//! Groups rather than one split per page: code that several split modules
//! share goes into modules of its own, one per combination of users, so
//! per-page splits meant about a hundred small downloads for one page. Five
//! groups keep each page's whole download (shell included) under 1.5 MB.

pub mod account;
pub mod api_detail;
pub mod api_traffic;
pub mod apis;
pub mod audit;
pub mod consumer;
pub mod consumers;
pub mod contract;
pub mod deprecations;
pub mod gateways;
pub mod not_found;
pub mod overview;
pub mod plans;
pub mod reviews;
pub mod settings;
pub mod sign_in;
pub mod slo;
pub mod slos;
pub mod subscriptions;
pub mod version;

use leptos::prelude::*;

/// Declares a group of lazily loaded pages: one split module that renders any
/// of them, and a route type per page that loads the module before rendering.
macro_rules! page_group {
    ($group:ident, $render:ident, $preload:ident { $($route:ident => $page:path,)* }) => {
        #[doc = concat!("The pages split into the `", stringify!($render), "` module.")]
        #[derive(Clone, Copy, Debug)]
        pub enum $group {
            $($route,)*
        }

        #[lazy]
        fn $render(page: $group) -> AnyView {
            match page {
                $($group::$route => view! { <$page /> }.into_any(),)*
            }
        }

        $(
            #[doc = concat!("The route of [`", stringify!($page), "`], in [`", stringify!($group), "`].")]
            pub struct $route;

            impl leptos_router::LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_route: Self) -> AnyView {
                    $render($group::$route).await
                }

                async fn preload() {
                    // Only the browser build has split modules to fetch.
                    #[cfg(target_arch = "wasm32")]
                    $preload().await;
                }
            }
        )*
    };
}

page_group!(Catalogue, catalogue_pages, __preload_catalogue_pages {
    Apis => apis::ApisPage,
    ApiDetail => api_detail::ApiDetailPage,
    ApiTraffic => api_traffic::ApiTrafficPage,
    Reviews => reviews::ReviewsPage,
    Deprecations => deprecations::DeprecationsPage,
});

page_group!(Versions, version_pages, __preload_version_pages {
    Version => version::VersionPage,
    Contract => contract::ContractPage,
});

page_group!(Partners, partner_pages, __preload_partner_pages {
    Consumers => consumers::ConsumersPage,
    Consumer => consumer::ConsumerPage,
    Subscriptions => subscriptions::SubscriptionsPage,
    Plans => plans::PlansPage,
});

page_group!(Reliability, reliability_pages, __preload_reliability_pages {
    Gateways => gateways::GatewaysPage,
    Slos => slos::SlosPage,
    Slo => slo::SloPage,
});

page_group!(Administration, administration_pages, __preload_administration_pages {
    Audit => audit::AuditPage,
    Settings => settings::SettingsPage,
    Account => account::AccountPage,
});
